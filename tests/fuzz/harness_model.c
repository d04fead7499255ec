/* Model files (fitps --save-model, --model), as psmodel_load reads them. */
#include "harness.h"
#include "mpscan.h"
#include "psmodel.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static psmodel m;
	static msgpack_unpacked u;

	msgpack_unpacked_init(&u);
	FUZZ_GUARDED({
		size_t objlen = 0, off = 0;

		if (mpscan(data, size, FUZZ_MAX_MESSAGE, &objlen) == MPSCAN_OK && objlen == size &&
		    msgpack_unpack_next(&u, (const char *)data, size, &off) == MSGPACK_UNPACK_SUCCESS &&
		    u.data.type == MSGPACK_OBJECT_MAP)
			psmodel_from_object(&m, &u.data, "fuzz");
	});
	psmodel_free(&m);
	msgpack_unpacked_destroy(&u);
	return 0;
}
