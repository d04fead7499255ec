/* gen — the stage module that makes data (stages/gen.c): synthetic users
 * with a known effect (gendata.h). */
#ifndef PSFLOW_GEN_H
#define PSFLOW_GEN_H

#include "module.h"

extern const stage_module gen_module;

#endif
