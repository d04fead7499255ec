/* match — nearest-neighbour matching on the propensity score, for the ATT:
 * the program of the match stage module (stages/match.c, where its
 * options, contract and recipe are). */
#include "match.h"

int
main(int argc, char **argv)
{
	return stage_main(&match_module, argc, argv);
}
