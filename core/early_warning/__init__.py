"""Early warning (贷中预警) on credit lines: rules as versioned data, the scan of the book's signals, the
actions (flag, freeze, reduce the limit), the handling of a warning and the coverage measure (预警覆盖率)."""
