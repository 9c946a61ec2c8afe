//! placeholder
pub fn estate() -> crate::Estate { crate::Estate::new() } pub const PAYMENT_VM: &str = "x"; pub const SHADOW_VM: &str = "y";
