//! Reusable view pieces and the pure functions that format their figures.

pub mod alerts;
pub mod call_view;
pub mod chart;
pub mod diff;
pub mod drafts;
pub mod editor;
pub mod failure;
pub mod figures;
pub mod filter_bar;
pub mod grid;
pub mod long_text;
pub mod markup;
pub mod shortcuts;
pub mod verdict;
pub mod violations;
