/* passing: columns kept apart, in memory and spilled to a file, read back
 * by row ranges across the runs they were written in.
 *
 * Four columns (i64, f64, bool, cat: 8 + 8 + 1 + 4 = 21 bytes a row) in
 * batches of 3, 5, 2 and 7 rows (17 in all); row r holds 10 r, r + 1/2,
 * r mod 2 and r mod 3. Bounds: everything in memory; 0 bytes (the file
 * from the first batch, one run per batch); 126 bytes (6 rows: the first
 * batch stays in memory, the second takes the rows to 8 and they go to
 * the file as one run of 8, then runs of 2 and 7). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "passing.h"

static const size_t batch_sizes[] = { 3, 5, 2, 7 };

static passing *
filled(size_t memory_bytes)
{
	table schema, batch;
	static char *levels[] = { "x", "y", "z" };
	static const int cols[] = { 0, 1, 2, 3 };
	passing *p;
	size_t row = 0;

	table_init(&schema);
	table_add_column(&schema, "a", COL_I64, NULL, 0);
	table_add_column(&schema, "b", COL_F64, NULL, 0);
	table_add_column(&schema, "c", COL_BOOL, NULL, 0);
	table_add_column(&schema, "d", COL_CAT, levels, 3);
	p = passing_open(&schema, memory_bytes, NULL);
	for (size_t k = 0; k < sizeof batch_sizes / sizeof *batch_sizes; k++) {
		table_init(&batch);
		table_copy_schema(&batch, &schema);
		table_set_rows(&batch, batch_sizes[k]);
		for (size_t i = 0; i < batch_sizes[k]; i++, row++) {
			((int64_t *)batch.cols[0].data)[i] = 10 * (int64_t)row;
			((double *)batch.cols[1].data)[i] = (double)row + .5;
			((uint8_t *)batch.cols[2].data)[i] = row % 2;
			((int32_t *)batch.cols[3].data)[i] = (int32_t)(row % 3);
		}
		passing_append(p, &batch, cols);
		table_free(&batch);
	}
	table_free(&schema);
	return p;
}

/* Rows [first, first + n) of every column as row r should hold them. */
static int
reads_back(passing *p, size_t first, size_t n)
{
	int64_t a[17];
	double b[17];
	uint8_t c[17];
	int32_t d[17];
	const int64_t *ga = passing_rows(p, 0, first, n, a);
	const double *gb = passing_rows(p, 1, first, n, b);
	const uint8_t *gc = passing_rows(p, 2, first, n, c);
	const int32_t *gd = passing_rows(p, 3, first, n, d);

	for (size_t i = 0; i < n; i++) {
		size_t r = first + i;

		if (ga[i] != 10 * (int64_t)r || gb[i] != (double)r + .5 || gc[i] != r % 2 ||
		    gd[i] != (int32_t)(r % 3))
			return 0;
	}
	return 1;
}

int
main(void)
{
	size_t in_memory, in_file;
	passing *p;
	int64_t buf[17];

	p = filled((size_t)1 << 20);
	passing_sizes(p, &in_memory, &in_file);
	CHECK(in_memory == 17 && in_file == 0 && passing_nrows(p) == 17,
	    "passing: 17 rows under the bound stay in memory");
	CHECK(reads_back(p, 0, 17) && reads_back(p, 2, 7), "passing: in memory, rows read back");
	CHECK(passing_rows(p, 0, 4, 2, buf) != (const void *)buf,
	    "passing: in memory, rows are read where they lie");
	CHECK(passing_schema(p)->ncols == 4 && passing_schema(p)->cols[3].nlevels == 3,
	    "passing: the schema is kept, levels too");
	passing_free(p);

	p = filled(0);
	passing_sizes(p, &in_memory, &in_file);
	CHECK(in_memory == 0 && in_file == 17, "passing: bound 0: every row in the file");
	CHECK(reads_back(p, 0, 17), "passing: from the file, all 17 rows");
	CHECK(reads_back(p, 1, 15), "passing: from the file, rows 1-15 across four runs");
	CHECK(reads_back(p, 8, 2), "passing: from the file, the third run alone");
	CHECK(reads_back(p, 16, 1) && reads_back(p, 3, 1), "passing: single rows");
	CHECK(passing_rows(p, 0, 4, 2, buf) == (const void *)buf,
	    "passing: from the file, rows come in the caller's buffer");
	passing_free(p);

	p = filled(126);
	passing_sizes(p, &in_memory, &in_file);
	CHECK(in_memory == 0 && in_file == 17, "passing: bound of 6 rows: spilled at the 8th");
	CHECK(reads_back(p, 0, 17) && reads_back(p, 7, 5) && reads_back(p, 9, 8),
	    "passing: spilled mid-stream, rows across the first run and the next");
	passing_free(p);
	CHECK_DONE();
}
