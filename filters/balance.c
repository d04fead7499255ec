/* balance — covariate balance before and after adjustment: the program of
 * the balance stage module (stages/balance.c, where its options, contract
 * and recipe are). */
#include "balance.h"

int
main(int argc, char **argv)
{
	return stage_main(&balance_module, argc, argv);
}
