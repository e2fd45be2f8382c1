#include "xfiq_test.h"
int main(void) { SKIP("todo"); }
