/* ucmctl_main.c: only main(), so the unit tests can link every other ucmctl file. */
#include "ucmctl.h"

int main(int argc, char **argv)
{
	return ucmctl_run(argc, argv);
}
