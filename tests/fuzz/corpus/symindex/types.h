/* SPDX-License-Identifier: GPL-2.0 */
#ifndef IO_URING_TYPES_H
#define IO_URING_TYPES_H

#include <linux/blkdev.h>
#include <linux/task_work.h>

#define IO_URING_F_MULTISHOT		(1 << 4)
#define IO_URING_F_COMPLETE_DEFER	(1 << 5)
#define IOU_ISSUE_SKIP_COMPLETE		(-1)

#define io_for_each_link(pos, head) \
	for (pos = (head); pos; pos = pos->link)

enum io_uring_cmd_flags {
	IO_URING_F_COMPLETE_DEFER_BIT	= 1,
	IO_URING_F_UNLOCKED		= 2,
};

struct io_wq_work_node {
	struct io_wq_work_node *next;
};

typedef void (*io_req_tw_func_t)(struct io_kiocb *req, struct io_tw_state *ts);

typedef struct {
	unsigned int	head;
	unsigned int	tail;
} io_ring_pos_t;

struct io_ring_ctx {
	/* const or read-mostly hot data */
	struct {
		unsigned int		flags;
		unsigned int		drain_next: 1;
	} ____cacheline_aligned_in_smp;

	struct io_wq_work_node	submit_state;
	spinlock_t		completion_lock;
};

struct io_kiocb {
	union {
		struct file		*file;
		struct io_cmd_data	cmd;
	};
	u8				opcode;
	unsigned int			flags;
	struct io_ring_ctx		*ctx;
	io_req_tw_func_t		io_task_work;
	struct io_kiocb			*link;
};

static inline bool io_req_ffs_set(struct io_kiocb *req)
{
	return req->flags & REQ_F_FIXED_FILE;
}

#endif
