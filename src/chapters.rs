//! The chapters that have an exercise crate, in book order.

use std::path::{Path, PathBuf};

/// One chapter of the workbook with an exercise and a solution crate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chapter {
    /// Two digits, as in the directory names: `"01"`.
    pub number: &'static str,
    /// The directory and package suffix: `"fixed-size-pool"`.
    pub slug: &'static str,
    /// The main type the chapter builds.
    pub title: &'static str,
    /// The bench comparisons whose figures the chapter's page shows.
    pub comparisons: &'static [Comparison],
    /// The bench rows that measure this chapter's solution, as `(group, id)`;
    /// charts colour them as the workbook's own.
    pub solution_rows: &'static [(&'static str, &'static str)],
    /// The bench rows that have a `learner/…` twin, as `(group, id)`:
    /// `cargo run -- compare NN` measures the learner's crate on these.
    pub learner_rows: &'static [(&'static str, &'static str)],
}

/// One line of a bench table: `id` measured against `baseline`, with the
/// speed-up the workbook's performance bar asks for, if any.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// The criterion group, which is also the bench target's name.
    pub group: &'static str,
    /// The bench id being judged.
    pub id: &'static str,
    /// The bench id it is compared with.
    pub baseline: &'static str,
    /// The bar: `baseline / id` must be at least this much (`None`: no bar).
    pub min_speedup: Option<f64>,
}

/// Every chapter with an exercise, in order.
pub const CHAPTERS: &[Chapter] = &[
    Chapter {
        number: "01",
        slug: "fixed-size-pool",
        title: "FixedSizePool",
        comparisons: &[
            Comparison {
                group: "custom_allocators",
                id: "fixed_size_pool",
                baseline: "standard_allocation",
                min_speedup: Some(5.0),
            },
            Comparison {
                group: "custom_allocators",
                id: "slab",
                baseline: "standard_allocation",
                min_speedup: None,
            },
            Comparison {
                group: "custom_allocators",
                id: "fixed_size_pool",
                baseline: "slab",
                min_speedup: None,
            },
        ],
        solution_rows: &[
            ("custom_allocators", "fixed_size_pool"),
            ("custom_allocators", "fixed_size_pool_by_value"),
        ],
        learner_rows: &[("custom_allocators", "fixed_size_pool")],
    },
    Chapter {
        number: "02",
        slug: "size-class-allocator",
        title: "SizeClassAllocator",
        comparisons: &[
            Comparison {
                group: "custom_allocators",
                id: "size_class_allocator",
                baseline: "standard_allocation_mixed",
                min_speedup: Some(2.0),
            },
            Comparison {
                group: "size_class_lookup",
                id: "lookup_table",
                baseline: "linear_scan",
                min_speedup: None,
            },
            Comparison {
                group: "size_class_lookup",
                id: "lookup_table",
                baseline: "binary_search",
                min_speedup: None,
            },
        ],
        solution_rows: &[
            ("custom_allocators", "size_class_allocator"),
            ("size_class_lookup", "lookup_table"),
        ],
        learner_rows: &[("custom_allocators", "size_class_allocator")],
    },
    Chapter {
        number: "03",
        slug: "stack-allocator",
        title: "StackAllocator",
        comparisons: &[
            Comparison {
                group: "custom_allocators",
                id: "stack_allocator",
                baseline: "bumpalo",
                // "No slower than bumpalo": a speed-up of at least 1.
                min_speedup: Some(1.0),
            },
            Comparison {
                group: "custom_allocators",
                id: "stack_allocator",
                baseline: "standard_allocation",
                min_speedup: None,
            },
        ],
        solution_rows: &[("custom_allocators", "stack_allocator")],
        learner_rows: &[("custom_allocators", "stack_allocator")],
    },
    Chapter {
        number: "04",
        slug: "pool-allocator",
        title: "PoolAllocator",
        comparisons: &[
            Comparison {
                group: "pool_allocator",
                id: "pool_allocator",
                baseline: "mutex_vec",
                min_speedup: Some(1.5),
            },
            Comparison {
                group: "pool_allocator",
                id: "pool_allocator",
                baseline: "object_pool",
                // "Faster than object-pool": a speed-up of at least 1.
                min_speedup: Some(1.0),
            },
            Comparison {
                group: "pool_allocator",
                id: "pool_allocator",
                baseline: "allocate",
                min_speedup: None,
            },
            Comparison {
                group: "pool_allocator",
                id: "pool_allocator_2_threads",
                baseline: "pool_allocator",
                // Time per operation with 2 threads at most 0.7x one thread's.
                min_speedup: Some(1.0 / 0.7),
            },
        ],
        solution_rows: &[
            ("pool_allocator", "pool_allocator"),
            ("pool_allocator", "pool_allocator_2_threads"),
        ],
        learner_rows: &[
            ("pool_allocator", "pool_allocator"),
            ("pool_allocator", "pool_allocator_2_threads"),
        ],
    },
    Chapter {
        number: "05",
        slug: "buffer-pool",
        title: "BufferPool",
        comparisons: &[
            Comparison {
                group: "buffer_pool",
                id: "with_pool",
                baseline: "without_pool",
                min_speedup: Some(5.0),
            },
            Comparison {
                group: "buffer_pool",
                id: "with_pool_256k",
                baseline: "without_pool_256k",
                min_speedup: Some(4.0),
            },
            Comparison {
                group: "buffer_pool",
                id: "without_pool_256k",
                baseline: "without_pool_256k_first_call",
                min_speedup: None,
            },
            Comparison {
                group: "buffer_pool",
                id: "with_pool_zeroed",
                baseline: "without_pool",
                min_speedup: None,
            },
            Comparison {
                group: "buffer_pool",
                id: "with_pool",
                baseline: "pool_allocator",
                min_speedup: None,
            },
            Comparison {
                group: "buffer_pool",
                id: "with_pool",
                baseline: "mutex_vec",
                min_speedup: None,
            },
            Comparison {
                group: "buffer_pool",
                id: "with_pool_2_threads",
                baseline: "with_pool",
                min_speedup: None,
            },
            Comparison {
                group: "buffer_pool",
                id: "mutex_vec_2_threads",
                baseline: "mutex_vec",
                min_speedup: None,
            },
        ],
        solution_rows: &[
            ("buffer_pool", "with_pool"),
            ("buffer_pool", "with_pool_zeroed"),
            ("buffer_pool", "with_pool_2_threads"),
            ("buffer_pool", "with_pool_256k"),
        ],
        learner_rows: &[
            ("buffer_pool", "with_pool"),
            ("buffer_pool", "with_pool_zeroed"),
            ("buffer_pool", "with_pool_2_threads"),
            ("buffer_pool", "with_pool_256k"),
        ],
    },
    Chapter {
        number: "06",
        slug: "string-builder-pool",
        title: "StringBuilderPool",
        comparisons: &[
            Comparison {
                group: "string_builder_pool",
                id: "with_pool",
                baseline: "without_pool",
                min_speedup: Some(1.5),
            },
            Comparison {
                group: "string_builder_pool",
                id: "with_pool_formatted",
                baseline: "without_pool_formatted",
                min_speedup: None,
            },
            Comparison {
                group: "string_builder_pool",
                id: "with_pool",
                baseline: "thread_local",
                min_speedup: None,
            },
            Comparison {
                group: "string_builder_pool",
                id: "with_pool",
                baseline: "mutex_vec",
                min_speedup: None,
            },
            Comparison {
                group: "string_builder_pool",
                id: "with_pool",
                baseline: "pool_allocator",
                min_speedup: None,
            },
            Comparison {
                group: "string_builder_pool",
                id: "with_pool",
                baseline: "object_pool",
                min_speedup: None,
            },
            Comparison {
                group: "string_builder_pool",
                id: "with_pool_2_threads",
                baseline: "without_pool_2_threads",
                min_speedup: None,
            },
        ],
        solution_rows: &[
            ("string_builder_pool", "with_pool"),
            ("string_builder_pool", "with_pool_formatted"),
            ("string_builder_pool", "with_pool_2_threads"),
        ],
        learner_rows: &[
            ("string_builder_pool", "with_pool"),
            ("string_builder_pool", "with_pool_formatted"),
            ("string_builder_pool", "with_pool_2_threads"),
        ],
    },
    Chapter {
        number: "07",
        slug: "worker-pool",
        title: "WorkerPool",
        comparisons: &[
            Comparison {
                group: "worker_pool",
                id: "worker_pool",
                baseline: "threadpool",
                // "No slower than threadpool": a speed-up of at least 1.
                min_speedup: Some(1.0),
            },
            Comparison {
                group: "worker_pool",
                id: "worker_pool",
                baseline: "spawn_per_task",
                min_speedup: Some(100.0),
            },
            Comparison {
                group: "worker_pool",
                id: "worker_pool",
                baseline: "rayon",
                min_speedup: None,
            },
            Comparison {
                group: "worker_pool",
                id: "submit_join",
                baseline: "spawn_per_task",
                min_speedup: None,
            },
        ],
        solution_rows: &[
            ("worker_pool", "worker_pool"),
            ("worker_pool", "submit_join"),
        ],
        learner_rows: &[
            ("worker_pool", "worker_pool"),
            ("worker_pool", "submit_join"),
        ],
    },
    Chapter {
        number: "08",
        slug: "connection-pool",
        title: "ConnectionPool",
        comparisons: &[
            Comparison {
                group: "connection_pool",
                id: "connection_pool",
                baseline: "r2d2",
                min_speedup: Some(3.0),
            },
            Comparison {
                group: "connection_pool",
                id: "connection_pool",
                baseline: "deadpool",
                // "Faster than deadpool": a speed-up of at least 1.
                min_speedup: Some(1.0),
            },
            Comparison {
                group: "connection_pool",
                id: "connection_pool_2_threads",
                baseline: "r2d2_2_threads",
                min_speedup: None,
            },
            Comparison {
                group: "connection_pool",
                id: "connection_pool_2_threads",
                baseline: "deadpool_2_threads",
                min_speedup: None,
            },
            Comparison {
                group: "connection_pool",
                id: "connection_pool_2_threads",
                baseline: "connection_pool",
                min_speedup: None,
            },
        ],
        solution_rows: &[
            ("connection_pool", "connection_pool"),
            ("connection_pool", "connection_pool_2_threads"),
        ],
        learner_rows: &[
            ("connection_pool", "connection_pool"),
            ("connection_pool", "connection_pool_2_threads"),
        ],
    },
];

impl Chapter {
    /// Finds a chapter by number: `"1"`, `"01"` and `"01-fixed-size-pool"` all work.
    pub fn find(query: &str) -> Option<&'static Chapter> {
        let number = query.split('-').next().unwrap_or(query);
        let number: u32 = number.parse().ok()?;
        CHAPTERS
            .iter()
            .find(|c| c.number.parse::<u32>().ok() == Some(number))
    }

    /// `01-fixed-size-pool`: the directory name under `exercises/` and `solutions/`.
    pub fn dir_name(&self) -> String {
        format!("{}-{}", self.number, self.slug)
    }

    /// The learner's crate, relative to the workspace root.
    pub fn exercise_dir(&self) -> PathBuf {
        Path::new("exercises").join(self.dir_name())
    }

    /// The reference crate, relative to the workspace root.
    pub fn solution_dir(&self) -> PathBuf {
        Path::new("solutions").join(self.dir_name())
    }

    /// The file the learner edits, relative to the workspace root.
    pub fn exercise_lib(&self) -> PathBuf {
        self.exercise_dir().join("src").join("lib.rs")
    }

    /// The chapter's hints, easy first, relative to the workspace root.
    pub fn hints_file(&self) -> PathBuf {
        self.exercise_dir().join("hints.md")
    }

    /// The chapter's lesson in the book, relative to the workspace root: the
    /// idea, the invariants, the traps and the exercise, never the solution.
    pub fn book_page(&self) -> PathBuf {
        Path::new("book")
            .join("src")
            .join(format!("{}.md", self.dir_name()))
    }

    /// The chapter's solution walkthrough, nested under the lesson in the
    /// book, relative to the workspace root. It is for after the last test passes.
    pub fn solution_page(&self) -> PathBuf {
        Path::new("book")
            .join("src")
            .join(format!("{}-solution.md", self.dir_name()))
    }

    /// `exercise-01-fixed-size-pool`.
    pub fn exercise_package(&self) -> String {
        format!("exercise-{}", self.dir_name())
    }

    /// `solution-01-fixed-size-pool`.
    pub fn solution_package(&self) -> String {
        format!("solution-{}", self.dir_name())
    }
}

/// The hints of a chapter: the sections of its `hints.md` that start with
/// `## `, each returned with its heading, in order.
pub fn parse_hints(text: &str) -> Vec<String> {
    let mut hints = Vec::new();
    for line in text.lines() {
        if line.starts_with("## ") {
            hints.push(String::new());
        }
        if let Some(hint) = hints.last_mut() {
            hint.push_str(line);
            hint.push('\n');
        }
    }
    hints.iter().map(|h| h.trim_end().to_owned()).collect()
}

/// Which of `count` hints to show when `shown` have been shown before: the
/// next one (the last again once all were seen), or every one with `all`.
pub fn hints_to_show(count: usize, shown: usize, all: bool) -> std::ops::Range<usize> {
    if all || count == 0 {
        return 0..count;
    }
    let next = shown.min(count - 1);
    next..next + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chapter_is_found_by_any_spelling_of_its_number() {
        for query in ["1", "01", "01-fixed-size-pool"] {
            assert_eq!(
                Chapter::find(query).map(|c| c.slug),
                Some("fixed-size-pool"),
                "{query:?} must find chapter 01"
            );
        }
        assert_eq!(Chapter::find("99"), None, "there is no chapter 99");
        assert_eq!(
            Chapter::find("pool"),
            None,
            "a chapter is found by number only"
        );
    }

    #[test]
    fn hints_come_one_at_a_time_and_all_at_once_on_request() {
        assert_eq!(
            hints_to_show(5, 0, false),
            0..1,
            "the first call shows hint 1"
        );
        assert_eq!(
            hints_to_show(5, 3, false),
            3..4,
            "after 3 shown, hint 4 is next"
        );
        assert_eq!(
            hints_to_show(5, 9, false),
            4..5,
            "past the end, the last hint again"
        );
        assert_eq!(
            hints_to_show(5, 0, true),
            0..5,
            "--all shows every hint, seen or not"
        );
        assert_eq!(
            hints_to_show(0, 0, false),
            0..0,
            "no hints, nothing to show"
        );
    }

    #[test]
    fn hints_are_split_at_second_level_headings() {
        let hints = parse_hints("# Hints\nintro\n## One\nfirst\n\n## Two\nsecond\n");
        assert_eq!(hints, ["## One\nfirst", "## Two\nsecond"]);
    }
}
