/* weight — inverse-probability weights and the weighted effect: the
 * program of the weight stage module (stages/weight.c, where its options,
 * contract and recipe are). */
#include "weight.h"

int
main(int argc, char **argv)
{
	return stage_main(&weight_module, argc, argv);
}
