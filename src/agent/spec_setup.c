/*
 * spec_setup.c: the agent's speculative decoding: the draft model (a file
 * or a registry name, or one shared by the server) and the hearth_spec
 * every local generation of the agent's chat sequence then uses.
 */
#include "agent/agent_int.h"
#include "models/resolve.h"

#include "util/error.h"

hearth_status agent_open_spec(hearth_agent *a, const hearth_agent_params *p, hearth_error *err) {
    bool want_draft = p->draft_model || (p->draft_model_path && *p->draft_model_path);
    /* with a scheduler, speculation is the scheduler's (hearth_sched_enable_spec) */
    if ((!want_draft && !p->lookup) || p->sched) return HEARTH_OK;
    hearth_status st;
    if (p->draft_model) {
        a->draft_model = (hearth_model *)p->draft_model;
    } else if (want_draft) {
        char resolved[4096];
        if ((st = models_resolve_model(p->policy_settings, p->draft_model_path, NULL, resolved,
                                       sizeof resolved, err))) {
            hearth_error_prefix(err, "draft_model");
            return st;
        }
        hearth_model_params mp = hearth_model_default_params();
        mp.n_threads = p->n_threads;
        if ((st = hearth_model_open(resolved, &mp, &a->draft_model, err))) {
            hearth_error_prefix(err, "draft_model");
            return st;
        }
        a->owns_draft_model = true;
    }
    hearth_spec_params sp = hearth_spec_default_params();
    sp.draft = a->draft_model;
    sp.lookup = p->lookup;
    sp.n_threads = p->n_threads;
    if (p->draft_max > 0) sp.n_draft_max = p->draft_max;
    if ((st = hearth_spec_new(a->model, &sp, &a->spec, err))) {
        hearth_error_prefix(err, "draft_model");
        return st;
    }
    return HEARTH_OK;
}

void agent_free_spec(hearth_agent *a) {
    hearth_spec_free(a->spec);
    a->spec = NULL;
    if (a->owns_draft_model) hearth_model_free(a->draft_model);
    a->draft_model = NULL;
}
