//! `asset_kind!`: how a kind's module declares its marker from its facts.

/// Declares a kind's marker and ties its id type, task enum and owned model to it. Used once
/// by each kind's module. `task:` is a task enum sent as one `tasks` list (its [`Task`](super::Task)
/// implementation written here); `task_lists:` is one whose module implements [`Task`](super::Task) itself.
macro_rules! asset_kind {
    (
        $(#[$meta:meta])*
        $marker:ident: $variant:ident {
            id: $id:ty,
            task: $task:ty,
            $($rest:tt)*
        }
    ) => {
        $crate::kinds::asset_kind! {
            $(#[$meta])*
            $marker: $variant { id: $id, task_lists: $task, $($rest)* }
        }

        impl $crate::kinds::sealed::Sealed for $task {}

        impl $crate::kinds::Task for $task {
            fn as_str(&self) -> &str {
                <$task>::as_str(self)
            }
            fn is_unlisted(&self) -> bool {
                <$task>::is_unlisted(self)
            }
            fn known() -> &'static [Self] {
                <$task>::KNOWN
            }
            fn parse(raw: &str) -> Self {
                <$task>::from(raw)
            }
        }
    };
    (
        $(#[$meta:meta])*
        $marker:ident: $variant:ident {
            id: $id:ty,
            task_lists: $task:ty,
            owned: $owned:ty,
            name: $name:literal,
            key: $key:literal,
            node: $node:literal,
            owned_edge: $owned_edge:literal,
            owned_fields: $owned_fields:expr,
            system_user_edge: $su_edge:expr,
            tasks_required: $req:literal,
            can_unassign: $del:literal
            $(, partner_edges: $partners:expr)?
            $(, assigned_user_fields: $au_fields:expr, held_fields: $held_fields:expr)? $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $marker;

        impl $crate::kinds::sealed::Sealed for $marker {}

        impl $crate::kinds::AssetKind for $marker {
            type Id = $id;
            type Task = $task;
            type Owned = $owned;
            const NAME: &'static str = $name;
            const KEY: &'static str = $key;
            const NODE: &'static str = $node;
            const OWNED_EDGE: &'static str = $owned_edge;
            const OWNED_FIELDS: &'static str = $owned_fields;
            const SYSTEM_USER_EDGE: Option<&'static str> = $su_edge;
            const TASKS_REQUIRED: bool = $req;
            const CAN_UNASSIGN: bool = $del;
            $(const PARTNER_EDGES: &'static [&'static str] = $partners;)?
            $(
                const ASSIGNED_USER_FIELDS: &'static str = $au_fields;
                const HELD_FIELDS: &'static str = $held_fields;
            )?
            fn asset_ref(id: $id) -> $crate::kinds::AssetRef {
                $crate::kinds::AssetRef::$variant(id)
            }
        }

        impl $crate::kinds::sealed::AssetId for $id {
            fn wire(&self) -> &str {
                self.as_str()
            }
            fn into_wire(self) -> String {
                self.into_string()
            }
            fn check(&self) -> $crate::Result<()> {
                self.validate()
            }
        }

        impl $crate::kinds::sealed::Owned<$id> for $owned {
            fn into_id(self) -> $id {
                self.id
            }
        }
    };
}

pub(crate) use asset_kind;
