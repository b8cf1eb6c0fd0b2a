//! What a channel's name alone says about it, shared by the reader (time
//! scaling), the spillover keywords and the marker map, so the three never
//! differ.

/// Whether a channel is the acquisition clock, as instruments name it
/// (`Time`, `TIME`, `Time-A`, `Time LIN`, `HDR-T`; FlowJo's `Comp-` prefix
/// dropped). The one rule for the reader's `$TIMESTEP` scaling, the marker
/// map and the spillover keywords.
pub fn is_time_channel(name: &str) -> bool {
    let upper = name.trim().to_ascii_uppercase();
    let n = upper.strip_prefix("COMP-").unwrap_or(&upper);
    matches!(n, "TIME" | "HDR-T" | "TIME-A" | "TIME LIN")
}
