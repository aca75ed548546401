/*
 * test_classify.c: request categories (src/router/classify.c) on a small
 * labelled set written here (10 sentences per category, phrased the way
 * people ask an assistant); prints the accuracy and requires >= 90%. Also:
 * the redactor's findings move a request into credentials / finance /
 * personal, and several categories can apply at once.
 */
#include "router/router.h"
#include "test.h"

#include <string.h>

typedef struct {
    router_category c;
    const char *text;
} sample;

static const sample set[] = {
    {ROUTER_CAT_HEALTH, "My doctor prescribed 20 mg of citalopram, is that a high dose?"},
    {ROUTER_CAT_HEALTH, "I have had a fever and a bad cough for three days."},
    {ROUTER_CAT_HEALTH, "What are the early symptoms of type 2 diabetes?"},
    {ROUTER_CAT_HEALTH, "Can I take ibuprofen with my blood pressure medication?"},
    {ROUTER_CAT_HEALTH, "The biopsy results came back and I am scared it is cancer."},
    {ROUTER_CAT_HEALTH, "How do I cope with anxiety and depression after surgery?"},
    {ROUTER_CAT_HEALTH, "I think I am pregnant, when should I see a clinic?"},
    {ROUTER_CAT_HEALTH, "My migraine gets worse at night, any therapy ideas?"},
    {ROUTER_CAT_HEALTH, "Is a rash after the vaccine normal?"},
    {ROUTER_CAT_HEALTH, "How long does an infection take to heal with antibiotics?"},
    {ROUTER_CAT_FINANCE, "Should I pay off my mortgage early or invest the money?"},
    {ROUTER_CAT_FINANCE, "How do I file my taxes if my income comes from two countries?"},
    {ROUTER_CAT_FINANCE, "My bank charged me an overdraft fee of $35, can I get a refund?"},
    {ROUTER_CAT_FINANCE, "Make a monthly budget for a salary of 3200 EUR."},
    {ROUTER_CAT_FINANCE, "Is it smart to move my pension savings into bitcoin?"},
    {ROUTER_CAT_FINANCE, "I owe €4000 in credit card debt, what should I do?"},
    {ROUTER_CAT_FINANCE, "Explain how dividend stocks work in a portfolio."},
    {ROUTER_CAT_FINANCE, "Can I deduct this invoice as a business expense?"},
    {ROUTER_CAT_FINANCE, "What loan can I get to buy a flat?"},
    {ROUTER_CAT_FINANCE, "Help me compare insurance offers."},
    {ROUTER_CAT_PERSONAL, "My wife and I are thinking about divorce, how do we tell the kids?"},
    {ROUTER_CAT_PERSONAL, "Write a toast for my sister's wedding."},
    {ROUTER_CAT_PERSONAL, "My daughter is being bullied at school."},
    {ROUTER_CAT_PERSONAL, "How do I talk to my father about his drinking?"},
    {ROUTER_CAT_PERSONAL, "My boyfriend forgot my birthday again."},
    {ROUTER_CAT_PERSONAL, "Ideas for a family trip with grandma and two children."},
    {ROUTER_CAT_PERSONAL, "I feel lonely since the breakup."},
    {ROUTER_CAT_PERSONAL, "My neighbour keeps parking in front of our home."},
    {ROUTER_CAT_PERSONAL, "What should I write in my diary about my mother?"},
    {ROUTER_CAT_PERSONAL, "How can my husband and I rebuild our relationship?"},
    {ROUTER_CAT_WORK, "My boss wants the quarterly report by Friday, help me outline it."},
    {ROUTER_CAT_WORK, "Draft an email to a client about the delayed project deadline."},
    {ROUTER_CAT_WORK, "How do I ask my manager for a promotion?"},
    {ROUTER_CAT_WORK, "Summarize the notes from today's standup meeting."},
    {ROUTER_CAT_WORK, "A colleague keeps taking credit for my work."},
    {ROUTER_CAT_WORK, "Prepare questions for a job interview at a startup."},
    {ROUTER_CAT_WORK, "Write the roadmap slide for our stakeholders."},
    {ROUTER_CAT_WORK, "How should HR handle onboarding for new employees?"},
    {ROUTER_CAT_WORK, "Review this NDA before I sign the contract."},
    {ROUTER_CAT_WORK, "Plan the next sprint for the team in Jira."},
    {ROUTER_CAT_CREDENTIALS, "I forgot the password for my router, how do I reset it?"},
    {ROUTER_CAT_CREDENTIALS, "Is it safe to store my API key in the repository?"},
    {ROUTER_CAT_CREDENTIALS, "How do I generate a new SSH key pair?"},
    {ROUTER_CAT_CREDENTIALS, "My 2FA codes stopped working after I changed phones."},
    {ROUTER_CAT_CREDENTIALS, "Where should a web app keep its credentials?"},
    {ROUTER_CAT_CREDENTIALS, "Make a strong passphrase I can remember."},
    {ROUTER_CAT_CREDENTIALS, "The login token expires every hour, how do I refresh it?"},
    {ROUTER_CAT_CREDENTIALS, "Can you check if this username and password combination leaked?"},
    {ROUTER_CAT_CREDENTIALS, "How do I change the PIN of my SIM?"},
    {ROUTER_CAT_CREDENTIALS, "What is the safest way to share a secret with a teammate? Use a password manager?"},
    {ROUTER_CAT_GENERAL, "What is 2+2?"},
    {ROUTER_CAT_GENERAL, "Who wrote Hamlet?"},
    {ROUTER_CAT_GENERAL, "Explain how photosynthesis works."},
    {ROUTER_CAT_GENERAL, "Translate 'good morning' into Spanish."},
    {ROUTER_CAT_GENERAL, "What is the capital of Australia?"},
    {ROUTER_CAT_GENERAL, "Write a haiku about autumn leaves."},
    {ROUTER_CAT_GENERAL, "How far is the Moon from Earth?"},
    {ROUTER_CAT_GENERAL, "Give me a recipe for pancakes."},
    {ROUTER_CAT_GENERAL, "Why is the sky blue?"},
    {ROUTER_CAT_GENERAL, "Sort this list in Python: [3, 1, 2]."},
};

int main(void) {
    size_t n = sizeof set / sizeof set[0], right = 0;
    int confusion[ROUTER_CAT_COUNT][ROUTER_CAT_COUNT] = {{0}};
    for (size_t i = 0; i < n; i++) {
        router_class rc;
        router_classify(set[i].text, strlen(set[i].text), NULL, &rc);
        confusion[set[i].c][rc.primary]++;
        CHECK(rc.mask & ROUTER_CAT_BIT(rc.primary));
        if (rc.primary == set[i].c) right++;
        else
            fprintf(stderr, "  %-11s -> %-11s %s\n", router_category_name(set[i].c),
                    router_category_name(rc.primary), set[i].text);
    }
    double acc = (double)right / (double)n;
    fprintf(stderr, "classification accuracy: %zu/%zu = %.1f%%\n", right, n, 100 * acc);
    for (int c = 0; c < ROUTER_CAT_COUNT; c++)
        fprintf(stderr, "  %-11s right %d of 10\n", router_category_name((router_category)c), confusion[c][c]);
    CHECK(acc >= 0.90);

    /* the redactor's findings */
    uint32_t counts[REDACT_KIND_COUNT] = {0};
    router_class rc;
    const char *t = "please use [SECRET_1] to log in to the dashboard";
    counts[REDACT_SECRET] = 1;
    router_classify(t, strlen(t), counts, &rc);
    CHECK(rc.primary == ROUTER_CAT_CREDENTIALS);
    memset(counts, 0, sizeof counts);
    counts[REDACT_IBAN] = 1;
    t = "send it to [IBAN_1]";
    router_classify(t, strlen(t), counts, &rc);
    CHECK(rc.primary == ROUTER_CAT_FINANCE);
    memset(counts, 0, sizeof counts);
    counts[REDACT_EMAIL] = counts[REDACT_PHONE] = 1;
    t = "reach me at [EMAIL_1] or [PHONE_1]";
    router_classify(t, strlen(t), counts, &rc);
    CHECK(rc.primary == ROUTER_CAT_PERSONAL);
    /* several categories at once: the mask holds both */
    t = "My doctor says the hospital bill goes to my bank loan.";
    router_classify(t, strlen(t), NULL, &rc);
    CHECK(rc.mask & ROUTER_CAT_BIT(ROUTER_CAT_HEALTH));
    CHECK(rc.mask & ROUTER_CAT_BIT(ROUTER_CAT_FINANCE));
    CHECK(!(rc.mask & ROUTER_CAT_BIT(ROUTER_CAT_GENERAL)));
    /* nothing: general */
    router_classify("", 0, NULL, &rc);
    CHECK(rc.primary == ROUTER_CAT_GENERAL && rc.mask == ROUTER_CAT_BIT(ROUTER_CAT_GENERAL));
    router_classify(NULL, 5, NULL, &rc);
    CHECK(rc.primary == ROUTER_CAT_GENERAL);
    return test_done();
}
