/** The client property that marks a client with the extension (checked by `assertActive`). */
export const MARKER = '$fieldseal';
