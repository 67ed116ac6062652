/*
 * test_smaps.c
 *		The page size of the mapping that holds an address, from smaps text.
 */
#include "unit.h"

#include "core/smaps.h"

/* Three blocks as Linux prints them: a binary, shared memory on huge pages, the stack. */
static const char *const smaps_text =
"55d0c0a00000-55d0c0b2f000 r-xp 00000000 08:01 1234    /usr/lib/postgresql/15/bin/postgres\n"
"Size:               1212 kB\n"
"KernelPageSize:        4 kB\n"
"MMUPageSize:           4 kB\n"
"VmFlags: rd ex mr mw me dw sd\n"
"7f3a00000000-7f3a0f600000 rw-s 00000000 00:0f 5678    /anon_hugepage (deleted)\n"
"Size:             251904 kB\n"
"KernelPageSize:     2048 kB\n"
"MMUPageSize:        2048 kB\n"
"VmFlags: rd wr sh mr mw me ms de ht sd\n"
"7ffc1a2b3000-7ffc1a2d4000 rw-p 00000000 00:00 0       [stack]\n"
"Size:                132 kB\n"
"KernelPageSize:        4 kB\n";

static void
the_block_holding_the_address_answers(void **state)
{
	assert_int_equal(smaps_page_kb(smaps_text, (uintptr_t) 0x7f3a00000000ULL), 2048);
	assert_int_equal(smaps_page_kb(smaps_text, (uintptr_t) 0x7f3a05000123ULL), 2048);
	assert_int_equal(smaps_page_kb(smaps_text, (uintptr_t) 0x55d0c0a00010ULL), 4);
	assert_int_equal(smaps_page_kb(smaps_text, (uintptr_t) 0x7ffc1a2d3fffULL), 4);
}

static void
an_address_outside_every_block_is_unknown(void **state)
{
	/* the end is exclusive; gaps and beyond the last block hold nothing */
	assert_int_equal(smaps_page_kb(smaps_text, (uintptr_t) 0x7f3a0f600000ULL), -1);
	assert_int_equal(smaps_page_kb(smaps_text, (uintptr_t) 0x1000ULL), -1);
	assert_int_equal(smaps_page_kb(smaps_text, (uintptr_t) 0x7ffc1a2d4000ULL), -1);
}

static void
a_block_without_a_page_size_is_unknown(void **state)
{
	const char *text =
		"1000-2000 rw-p 00000000 00:00 0\n"
		"Size: 4 kB\n"
		"3000-4000 rw-p 00000000 00:00 0\n"
		"KernelPageSize: 4 kB\n";

	/* the next block's line is not the first block's */
	assert_int_equal(smaps_page_kb(text, (uintptr_t) 0x1800), -1);
	assert_int_equal(smaps_page_kb(text, (uintptr_t) 0x3800), 4);
	assert_int_equal(smaps_page_kb("", (uintptr_t) 0x1800), -1);
	assert_int_equal(smaps_page_kb("KernelPageSize: 2048 kB\n", (uintptr_t) 0x1800), -1);
	/* a size that is not in kB, or no number at all */
	assert_int_equal(smaps_page_kb("1000-2000 rw-p 0 0:0 0\nKernelPageSize: 4 MB\n", (uintptr_t) 0x1800), -1);
	assert_int_equal(smaps_page_kb("1000-2000 rw-p 0 0:0 0\nKernelPageSize: kB\n", (uintptr_t) 0x1800), -1);
	/* a figure no page has, one that would overflow when made bytes */
	assert_int_equal(smaps_page_kb("1000-2000 rw-p 0 0:0 0\nKernelPageSize: 99999999999999999999 kB\n", (uintptr_t) 0x1800), -1);
	assert_int_equal(smaps_page_kb("1000-2000 rw-p 0 0:0 0\nKernelPageSize: 1048576 kB\n", (uintptr_t) 0x1800), 1048576);
	assert_int_equal(smaps_page_kb("1000-2000 rw-p 0 0:0 0\nKernelPageSize: -4 kB\n", (uintptr_t) 0x1800), -1);
	/* a last line without its newline */
	assert_int_equal(smaps_page_kb("1000-2000 rw-p 0 0:0 0\nKernelPageSize: 2048 kB", (uintptr_t) 0x1800), 2048);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(the_block_holding_the_address_answers),
	cmocka_unit_test(an_address_outside_every_block_is_unknown),
	cmocka_unit_test(a_block_without_a_page_size_is_unknown),
};

UnitGroup
smaps_tests(void)
{
	return (UnitGroup) UNIT_GROUP("smaps", tests);
}
