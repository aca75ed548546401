/*
 * classify.c: on-device classification of a request into the privacy
 * categories (health, finance, personal, work, credentials, general).
 *
 * Evidence, summed per category: each word matching a lexicon entry (exact
 * word, or a stem marked with '*') adds its weight; money amounts ("$120",
 * "120 EUR") add to finance; the redactor's findings (when given) add to
 * credentials (secrets), finance (cards, IBANs) and personal (other personal
 * data). A category with a score >= 1 is in the mask. The lexicon is an
 * immutable table; nothing is allocated. Linear in the text.
 */
#include "router/router.h"

#include <string.h>

typedef struct {
    const char *w; /* lower case; a trailing '*' makes it a stem */
    router_category c;
    float weight;
} lex;

#define H ROUTER_CAT_HEALTH
#define F ROUTER_CAT_FINANCE
#define P ROUTER_CAT_PERSONAL
#define W ROUTER_CAT_WORK
#define C ROUTER_CAT_CREDENTIALS

static const lex lexicon[] = {
    /* health */
    {"doctor*", H, 1}, {"diagnos*", H, 1}, {"symptom*", H, 1}, {"medic*", H, 1},
    {"prescri*", H, 1}, {"therap*", H, 1}, {"pain", H, 0.6f}, {"painful", H, 0.6f},
    {"cancer", H, 1}, {"tumor*", H, 1}, {"tumour*", H, 1}, {"diabet*", H, 1},
    {"depress*", H, 1}, {"anxiety", H, 1}, {"pregnan*", H, 1}, {"allerg*", H, 1},
    {"hospital*", H, 1}, {"clinic*", H, 1}, {"surgery", H, 1}, {"blood", H, 0.6f},
    {"pill*", H, 0.7f}, {"dose", H, 0.7f}, {"dosage", H, 1}, {"vaccin*", H, 1},
    {"infection*", H, 1}, {"fever", H, 1}, {"migraine*", H, 1}, {"illness*", H, 1},
    {"disease*", H, 1}, {"psychiatr*", H, 1}, {"nurse*", H, 0.7f}, {"health", H, 0.8f},
    {"headache*", H, 1}, {"cough*", H, 0.8f}, {"rash", H, 0.8f}, {"insulin", H, 1},
    {"antibiotic*", H, 1}, {"mg", H, 0.5f}, {"cholesterol", H, 1}, {"asthma", H, 1},
    {"hiv", H, 1}, {"std", H, 0.6f}, {"dentist*", H, 1}, {"injur*", H, 0.8f},
    {"sick", H, 0.8f}, {"ill", H, 0.6f}, {"mental", H, 0.6f}, {"biopsy", H, 1},
    {"chemo*", H, 1}, {"ibuprofen", H, 1}, {"paracetamol", H, 1}, {"x-ray", H, 1},
    /* finance */
    {"bank*", F, 1}, {"loan*", F, 1}, {"mortgage*", F, 1}, {"invoice*", F, 0.8f},
    {"tax", F, 1}, {"taxes", F, 1}, {"salary", F, 1}, {"budget*", F, 0.8f},
    {"invest*", F, 1}, {"stock*", F, 0.6f}, {"credit", F, 0.8f}, {"debt*", F, 1},
    {"payment*", F, 0.8f}, {"insurance", F, 0.8f}, {"pension*", F, 1}, {"crypto*", F, 0.8f},
    {"bitcoin", F, 1}, {"portfolio*", F, 0.8f}, {"refund*", F, 0.8f}, {"expense*", F, 0.7f},
    {"iban", F, 1}, {"overdraft", F, 1}, {"savings", F, 1}, {"income", F, 1},
    {"rent", F, 0.6f}, {"dividend*", F, 1}, {"financ*", F, 1}, {"money", F, 0.7f},
    {"wire", F, 0.5f}, {"deposit*", F, 0.8f}, {"paycheck*", F, 1}, {"bankrupt*", F, 1},
    /* family and personal life */
    {"wife", P, 1}, {"husband", P, 1}, {"son", P, 0.8f}, {"daughter*", P, 1},
    {"mother", P, 1}, {"mom", P, 1}, {"mum", P, 1}, {"father", P, 1}, {"dad", P, 1},
    {"kid", P, 0.8f}, {"kids", P, 0.8f}, {"child", P, 0.8f}, {"children", P, 0.8f},
    {"family", P, 1}, {"boyfriend", P, 1}, {"girlfriend", P, 1}, {"divorc*", P, 1},
    {"wedding*", P, 1}, {"marriage", P, 1}, {"married", P, 1}, {"relationship*", P, 1},
    {"sister*", P, 1}, {"brother*", P, 1}, {"grandm*", P, 1}, {"grandp*", P, 1},
    {"parents", P, 1}, {"baby", P, 0.8f}, {"neighbo*", P, 0.8f}, {"boyfriend's", P, 1},
    {"ex", P, 0.5f}, {"breakup", P, 1}, {"lonely", P, 0.8f}, {"birthday", P, 0.7f},
    {"diary", P, 1}, {"religion", P, 1}, {"pray*", P, 0.7f}, {"partner's", P, 0.8f},
    {"home", P, 0.3f}, {"cousin*", P, 1}, {"aunt", P, 1}, {"uncle", P, 1},
    /* work */
    {"boss", W, 1}, {"manager", W, 0.8f}, {"colleague*", W, 1}, {"coworker*", W, 1},
    {"meeting*", W, 0.7f}, {"client*", W, 0.8f}, {"customer*", W, 0.6f}, {"project*", W, 0.6f},
    {"deadline*", W, 0.8f}, {"office", W, 0.6f}, {"contract*", W, 0.7f}, {"employer*", W, 1},
    {"employee*", W, 1}, {"hr", W, 0.8f}, {"interview*", W, 0.6f}, {"promotion", W, 0.7f},
    {"quarterly", W, 1}, {"presentation*", W, 0.7f}, {"team", W, 0.5f}, {"confidential", W, 0.8f},
    {"nda", W, 1}, {"roadmap*", W, 1}, {"sprint*", W, 0.8f}, {"stakeholder*", W, 1},
    {"company", W, 0.6f}, {"job", W, 0.7f}, {"workplace", W, 1}, {"coworkers", W, 1},
    {"layoff*", W, 1}, {"resign*", W, 0.8f}, {"hire", W, 0.6f},
    {"hiring", W, 0.8f}, {"onboarding", W, 1}, {"kpi*", W, 1}, {"revenue", W, 0.6f},
    {"work", W, 0.4f}, {"slack", W, 0.4f}, {"jira", W, 1}, {"standup", W, 1},
    /* credentials */
    {"password*", C, 1.2f}, {"passwd", C, 1.2f}, {"passphrase*", C, 1.2f}, {"login*", C, 0.7f},
    {"credential*", C, 1.2f}, {"token*", C, 0.6f}, {"api", C, 0.4f}, {"apikey", C, 1},
    {"ssh", C, 0.7f}, {"2fa", C, 1}, {"otp", C, 1}, {"pin", C, 0.7f}, {"username*", C, 0.6f},
    {"secret", C, 0.7f}, {"keys", C, 0.3f}, {"key", C, 0.3f}, {"private", C, 0.2f},
    {"authenticat*", C, 0.8f}, {"passcode*", C, 1.2f}, {"recovery", C, 0.5f},
};

#undef H
#undef F
#undef P
#undef W
#undef C

static bool lower_alpha(unsigned char c) { return (unsigned)(c - 'a') < 26u; }

static void add_word(const char *w, size_t n, float *score) {
    for (size_t k = 0; k < sizeof lexicon / sizeof lexicon[0]; k++) {
        const char *e = lexicon[k].w;
        if (e[0] != w[0]) continue;
        size_t el = strlen(e);
        bool stem = e[el - 1] == '*';
        if (stem) el--;
        if (stem ? (n >= el && !memcmp(w, e, el)) : (n == el && !memcmp(w, e, el)))
            score[lexicon[k].c] += lexicon[k].weight;
    }
}

/* Whether text at i looks like a money amount: a currency sign next to a
 * digit, or a number followed by a currency code. */
static bool money_at(const unsigned char *s, size_t n, size_t i) {
    if ((s[i] == '$' || s[i] == 0xE2 /* € */ || s[i] == 0xC2 /* £ ¥ */) && i + 1 < n) {
        size_t j = i + 1;
        if (s[i] == 0xE2) j = i + 3; /* E2 82 AC */
        else if (s[i] == 0xC2) j = i + 2; /* C2 A3, C2 A5 */
        if (s[i] == 0xE2 && !(i + 2 < n && s[i + 1] == 0x82 && s[i + 2] == 0xAC)) return false;
        if (s[i] == 0xC2 && !(i + 1 < n && (s[i + 1] == 0xA3 || s[i + 1] == 0xA5))) return false;
        return j < n && (unsigned)(s[j] - '0') < 10u;
    }
    return false;
}

void router_classify(const char *text, size_t len, const uint32_t *counts, router_class *out) {
    float *score = out->score;
    for (int c = 0; c < ROUTER_CAT_COUNT; c++) score[c] = 0;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    if (!text) len = 0;
    char w[24];
    size_t wl = 0;
    int money = 0;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? s[i] : ' ';
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        if (lower_alpha(c) || (wl && (c == '\'' || c == '-' || (unsigned)(c - '0') < 10u)) ||
            (!wl && c == '2' && i + 2 < len && (s[i + 1] | 0x20) == 'f')) {
            if (wl < sizeof w) w[wl] = (char)c;
            wl++;
            continue;
        }
        if (wl && wl <= sizeof w) add_word(w, wl, score);
        wl = 0;
        if (i < len && money < 3 && money_at(s, len, i)) money++;
    }
    score[ROUTER_CAT_FINANCE] += 0.6f * (float)money;
    if (counts) {
        if (counts[REDACT_SECRET]) score[ROUTER_CAT_CREDENTIALS] += 3;
        if (counts[REDACT_CARD] || counts[REDACT_IBAN]) score[ROUTER_CAT_FINANCE] += 3;
        if (counts[REDACT_SSN]) score[ROUTER_CAT_PERSONAL] += 2;
        static const redact_kind personal[] = {REDACT_EMAIL, REDACT_PHONE, REDACT_DOB,
                                               REDACT_ADDRESS, REDACT_POSTCODE, REDACT_TERM};
        for (size_t k = 0; k < sizeof personal / sizeof personal[0]; k++)
            if (counts[personal[k]]) score[ROUTER_CAT_PERSONAL] += 0.5f;
    }
    /* Strongest category first; ties go to the stricter-minded order. */
    static const router_category order[] = {ROUTER_CAT_CREDENTIALS, ROUTER_CAT_HEALTH,
                                            ROUTER_CAT_FINANCE,     ROUTER_CAT_PERSONAL,
                                            ROUTER_CAT_WORK};
    out->primary = ROUTER_CAT_GENERAL;
    out->mask = 0;
    float best = 0;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        router_category c = order[k];
        if (score[c] >= 1.0f) {
            out->mask |= ROUTER_CAT_BIT(c);
            if (score[c] > best) {
                best = score[c];
                out->primary = c;
            }
        }
    }
    if (!out->mask) out->mask = ROUTER_CAT_BIT(ROUTER_CAT_GENERAL);
}
