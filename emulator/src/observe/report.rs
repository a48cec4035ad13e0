//! The fault reports: the table printed by `--faults`, the `--fault-log` file and the `--fault-plot` histogram.
