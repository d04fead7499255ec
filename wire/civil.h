/* civil — dates and times as text (ISO 8601, as PostgreSQL, SQLite and
 * pandas write them) to days since 1970-01-01, the number a model can use.
 *
 * Ownership: pure functions; nothing is allocated. (rule: base/README.md) */
#ifndef PSFLOW_CIVIL_H
#define PSFLOW_CIVIL_H

#include <stddef.h>
#include <stdint.h>

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; m 1..12, d 1..31). */
int64_t civil_days(int64_t y, int m, int d);

/* "YYYY-MM-DD": 0 and the day number; -1 when the text is not exactly a
 * valid date. */
int civil_parse_date(const char *s, size_t len, int64_t *days);

/* "YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]]" with an optional "Z" or +HH[:MM] /
 * -HH[:MM] offset (none: UTC): 0 and the days since 1970-01-01 00:00 UTC,
 * with the time as the fraction; -1 when it is not one. A date alone is
 * taken too (midnight). */
int civil_parse_datetime(const char *s, size_t len, double *days);

#endif
