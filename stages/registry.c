/* registry — the stage modules psflow has, by recipe name. Apart from
 * module.c so that a stage program links its own module alone, and boot's
 * replay (the one that looks names up) all of them. */
#include <string.h>

#include "module.h"

extern const stage_module gen_module, fitps_module, weight_module, match_module,
    balance_module, boot_module, sensitivity_module, aipw_module;

static const stage_module *const modules[] = {
	&gen_module, &fitps_module, &weight_module, &match_module, &balance_module,
	&boot_module, &sensitivity_module, &aipw_module,
};

const stage_module *
stage_module_find(const char *name)
{
	for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++)
		if (strcmp(modules[i]->name, name) == 0)
			return modules[i];
	return NULL;
}

const stage_module *
stage_module_at(int i)
{
	return i >= 0 && (size_t)i < sizeof modules / sizeof modules[0] ? modules[i] : NULL;
}
