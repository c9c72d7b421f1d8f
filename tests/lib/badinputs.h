/* Generator of the good and hostile image fixtures the loader tests (and the fuzz seed corpus)
 * use; everything is made on the fly so the repository stays small. */
#ifndef TESTS_LIB_BADINPUTS_H
#define TESTS_LIB_BADINPUTS_H
int sd_make_bad_inputs(const char *dir);
#endif
