#include "civil.h"

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian
 * date, no tables, no time zone library. */
int64_t
civil_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

int
civil_parse_date(const char *s, size_t len, int64_t *days)
{
	int y, m, d;

	if (len != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) ||
	    digits(s + 5, 2, &m) || digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1 ||
	    d > days_in_month(y, m))
		return -1;
	*days = civil_days(y, m, d);
	return 0;
}

int
civil_parse_datetime(const char *s, size_t len, double *days)
{
	int64_t day;
	int hh = 0, mm = 0, ss = 0, off = 0;
	double frac = 0;
	size_t i = 10;

	if (len < 10 || civil_parse_date(s, 10, &day) != 0)
		return -1;
	if (len > 10) {
		if ((s[10] != 'T' && s[10] != ' ') || len < 16 || digits(s + 11, 2, &hh) ||
		    s[13] != ':' || digits(s + 14, 2, &mm) || hh > 23 || mm > 59)
			return -1;
		i = 16;
		if (i < len && s[i] == ':') {
			if (len < i + 3 || digits(s + i + 1, 2, &ss) || ss > 60)
				return -1;
			i += 3;
			if (i < len && s[i] == '.') {
				double scale = 0.1;

				if (++i >= len || s[i] < '0' || s[i] > '9')
					return -1;
				for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
					frac += (s[i] - '0') * scale;
			}
		}
		if (i < len && s[i] == 'Z')
			i++;
		else if (i < len && (s[i] == '+' || s[i] == '-')) {
			int oh, om = 0, sign = s[i] == '-' ? -1 : 1;

			if (len < i + 3 || digits(s + i + 1, 2, &oh) || oh > 23)
				return -1;
			i += 3;
			if (i < len && s[i] == ':')
				i++;
			if (i + 2 <= len && digits(s + i, 2, &om) == 0)
				i += 2;
			off = sign * (oh * 60 + om);
		}
		if (i != len)
			return -1;
	}
	*days = (double)day + ((hh * 60 + mm - off) * 60 + ss + frac) / 86400.0;
	return 0;
}
