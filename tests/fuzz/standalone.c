/* standalone — replays files through a harness without libFuzzer: make
 * test runs the kept corpus (every crash found is kept there) this way.
 * usage: fuzz-NAME FILE... ; prints how many it ran. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

int
main(int argc, char **argv)
{
	int ran = 0;

	err_set_prog(argv[0]);
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		uint8_t *buf;
		long n;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
		    fseek(f, 0, SEEK_SET) != 0) {
			fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
			return 1;
		}
		buf = malloc((size_t)n + 1);
		if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
			fprintf(stderr, "%s: cannot read %s\n", argv[0], argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		free(buf);
		ran++;
	}
	printf("%d inputs\n", ran);
	return 0;
}
