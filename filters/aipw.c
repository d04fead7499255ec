/* aipw — doubly robust estimates: the program of the aipw stage module
 * (stages/aipw.c, where its options, contract and recipe are). */
#include "aipw.h"

int
main(int argc, char **argv)
{
	return stage_main(&aipw_module, argc, argv);
}
