//! One module per command, named as on the command line.

pub mod book;
pub mod check;
pub mod compare;
pub mod grade;
pub mod hint;
pub mod learner_copy;
pub mod measured;
pub mod profile;
pub mod status;
pub mod stub;
pub mod verify;
pub mod watch;
