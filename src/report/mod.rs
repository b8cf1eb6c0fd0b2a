//! Results as data and as text: every report is a serde-serialisable
//! structure, rendered for the terminal from that same structure.

pub mod case;
pub mod csv;
pub mod follow;
pub mod gating;
pub(crate) mod html;
pub mod inspect;
pub mod panel;
pub mod terminal;
pub(crate) mod workspace;
