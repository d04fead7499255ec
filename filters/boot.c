/* boot — bootstrap intervals for every estimate upstream, replaying the
 * recipe on each resample: the program of the boot stage module
 * (stages/boot.c, where its options, contract and recipe are). */
#include "boot.h"

int
main(int argc, char **argv)
{
	return stage_main(&boot_module, argc, argv);
}
