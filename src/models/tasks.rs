//! The task enums, one per asset kind, live with their kind in `crate::kinds`; this is where
//! the rest of the crate takes them from.

pub(crate) use crate::kinds::Task;
pub(crate) use crate::kinds::ad_account::AdAccountTask;
pub(crate) use crate::kinds::catalog::CatalogTask;
pub(crate) use crate::kinds::instagram::InstagramTask;
pub(crate) use crate::kinds::page::PageTask;
pub(crate) use crate::kinds::pixel::PixelTask;
pub(crate) use crate::kinds::whatsapp::WhatsAppTask;
