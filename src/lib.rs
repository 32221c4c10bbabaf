//! The workbook runner.
