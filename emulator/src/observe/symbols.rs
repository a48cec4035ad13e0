//! Kernel symbols (being written).
