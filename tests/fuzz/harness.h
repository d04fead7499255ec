/* harness — what every fuzz harness shares: libFuzzer's entry point, and
 * die() turned into a jump back to the harness, so that one process tries
 * millions of inputs (a die() is a refusal, the expected answer to most
 * inputs; a crash, a leak or undefined behaviour is a finding).
 *
 * Each harness_*.c defines LLVMFuzzerTestOneInput; built with clang's
 * -fsanitize=fuzzer it is a libFuzzer target (make fuzz), built with
 * standalone.c it replays files (make test runs the kept corpus). Every
 * object a harness allocates lives in a static, so that it is freed after a
 * jump too. */
#ifndef PSFLOW_FUZZ_HARNESS_H
#define PSFLOW_FUZZ_HARNESS_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The largest message a harness reads: inputs stay small, and a message
 * claiming more is refused as a stage would refuse it. */
#define FUZZ_MAX_MESSAGE ((size_t)1 << 20)

/* Runs the block given; a die() inside returns here. */
#define FUZZ_GUARDED(...)                                    \
	do {                                                 \
		static jmp_buf fuzz_jump;                    \
		if (setjmp(fuzz_jump) == 0) {                \
			err_set_jump(&fuzz_jump);            \
			__VA_ARGS__;                         \
		}                                            \
		err_set_jump(NULL);                          \
	} while (0)

#endif
