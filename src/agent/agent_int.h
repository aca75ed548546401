/*
 * agent_int.h: functions shared between the agent's own files.
 */
#ifndef HEARTH_AGENT_INT_H
#define HEARTH_AGENT_INT_H

#include "hearth.h"

/* A request carrying p's sampling defaults (built-in ones if p is NULL). */
hearth_agent_request hearth_agent_default_request_from(const hearth_agent_params *p);

#endif
