//! Finance and asset governance: depreciation, warranties and contracts, the
//! renewal calendar, licence compliance and cost per service.
//!
//! Every answer takes the instant it is asked for as an argument and uses
//! exact [`Money`](crate::Money); nothing here reads a clock or converts
//! currencies.
