/* Test fixtures shared by the unit tests. */
#ifndef TESTS_LIB_FIXTURES_H
#define TESTS_LIB_FIXTURES_H
#include "skindelta/skindelta.h"
/* The reference implementation's face box and 68 landmarks ("box", "landmarks68") from a fixture
 * JSON in tests/data/face/; 0 when all 68 points were read. */
int sd_test_fixture_landmarks(const char *name, SdLandmarks *lm);
#endif
