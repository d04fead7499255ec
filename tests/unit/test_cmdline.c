/* cmdline: which words are quoted and how, the shortest number that reads
 * back, and a pipeline's joins, by hand. */
#include <string.h>

#include "check.h"
#include "cmdline.h"

int
main(void)
{
	cmdline c;

	cmdline_init(&c);
	CHECK(strcmp(c.text, "") == 0, "a new line is empty");
	cmdline_word(&c, "fitps");
	cmdline_opt(&c, "-x", "engagement_tier,query_confidence");
	CHECK(strcmp(c.text, "fitps -x engagement_tier,query_confidence") == 0,
	    "plain words go as they are, one space apart");
	cmdline_raw(&c, " \\\n  | ");
	cmdline_word(&c, "weight");
	CHECK(strcmp(c.text, "fitps -x engagement_tier,query_confidence \\\n  | weight") == 0,
	    "after a raw join that ends in a space, no second space");
	cmdline_free(&c);

	cmdline_init(&c);
	cmdline_word(&c, "a*b");
	cmdline_word(&c, "it's");
	cmdline_word(&c, "");
	cmdline_word(&c, "$HOME");
	CHECK(strcmp(c.text, "'a*b' 'it'\\''s' '' '$HOME'") == 0,
	    "a glob, a quote, an empty word and a $ are single-quoted ('\\'' for ')");
	cmdline_free(&c);

	cmdline_init(&c);
	cmdline_num(&c, "--l2", 0.1);
	cmdline_num(&c, "--tol", 1e-10);
	cmdline_num(&c, "--x", 0.1 + 0.2);
	cmdline_num_pair(&c, "--trim", 0.05, 0.95);
	CHECK(strcmp(c.text, "--l2 0.1 --tol 1e-10 --x 0.30000000000000004 --trim 0.05,0.95") == 0,
	    "numbers: %.15g when it reads back the same double, else %.17g");
	cmdline_free(&c);
	return check_failures != 0;
}
