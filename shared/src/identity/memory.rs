//! Identities in memory, with the table's conditional write, for unit tests.

use super::{Deletion, Identity, IdentityError, IdentityKey, IdentityStore};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct MemoryIdentities {
    items: Mutex<BTreeMap<IdentityKey, Identity>>,
}

impl MemoryIdentities {
    pub fn all(&self) -> Vec<Identity> {
        self.items.lock().unwrap().values().cloned().collect()
    }
}

impl IdentityStore for MemoryIdentities {
    async fn get(&self, key: &IdentityKey) -> Result<Option<Identity>, IdentityError> {
        Ok(self.items.lock().unwrap().get(key).cloned())
    }

    async fn put(&self, identity: &Identity) -> Result<bool, IdentityError> {
        let mut items = self.items.lock().unwrap();
        let stored = items.get(&identity.key).map(|i| i.version);
        if stored != identity.version.checked_sub(1).filter(|v| *v > 0) {
            return Ok(false);
        }
        items.insert(identity.key.clone(), identity.clone());
        Ok(true)
    }

    async fn sent(&self, key: &IdentityKey, version: u64) -> Result<(), IdentityError> {
        if let Some(identity) = self.items.lock().unwrap().get_mut(key) {
            if identity.version == version {
                identity.pending = None;
            }
        }
        Ok(())
    }

    async fn delete(
        &self,
        key: &IdentityKey,
        read: Option<u64>,
    ) -> Result<Deletion, IdentityError> {
        let mut items = self.items.lock().unwrap();
        Ok(match items.get(key).map(|i| i.version) {
            None => Deletion::Absent,
            Some(version) if Some(version) == read => {
                Deletion::Deleted(Box::new(items.remove(key).expect("just read")))
            }
            Some(_) => Deletion::Changed,
        })
    }
}
