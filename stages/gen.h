/* gen — the stage module that makes data (stages/gen.c): synthetic users
 * with a known effect (gendata.h).
 *
 * Ownership: gen's params are a value (gendata_opts). (rule: base/README.md) */
#ifndef PSFLOW_GEN_H
#define PSFLOW_GEN_H

#include "module.h"

extern const stage_module gen_module;

#endif
