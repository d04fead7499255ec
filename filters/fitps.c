/* fitps — the propensity model: who opts in, given the covariates? The
 * program of the fitps stage module (stages/fitps.c, where its options,
 * contract and recipe are). */
#include "fitps.h"

int
main(int argc, char **argv)
{
	return stage_main(&fitps_module, argc, argv);
}
