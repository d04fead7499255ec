/* gen — synthetic users who opt into an 'agent mode' or not, with a known
 * effect: the program of the gen stage module (stages/gen.c). */
#include "gen.h"

int
main(int argc, char **argv)
{
	return stage_main(&gen_module, argc, argv);
}
