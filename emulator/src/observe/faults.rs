//! The fault accountant (being written).
