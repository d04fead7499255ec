/* sensitivity — how fragile is each estimate to a confounder nobody
 * measured: the program of the sensitivity stage module
 * (stages/sensitivity.c, where its options, contract and recipe are). */
#include "sensitivity.h"

int
main(int argc, char **argv)
{
	return stage_main(&sensitivity_module, argc, argv);
}
