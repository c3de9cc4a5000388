/**
 * Runs a store's start-up integrity check; a store found damaged is closed before the error
 * (one line naming the file) stops the start.
 */
export async function openChecked(store: {
  checkIntegrity(): Promise<void>;
  close(): Promise<void>;
}): Promise<void> {
  try {
    await store.checkIntegrity();
  } catch (error) {
    await store.close();
    throw error;
  }
}
