package dev.ssekit.mercure;

/** Checks of strings the protocol restricts. */
final class Text {

    private Text() {
    }

    /**
     * Refuses C0 and C1 controls, DEL and Unicode format ({@code Cf}) characters, which Mercure 1.0
     * forbids in topics, matchers, ids and types (L65-74, L172-176, L400-421).
     *
     * @param setting the setting's name, for the message
     * @param value the value
     * @throws IllegalArgumentException naming the setting, the value and the character
     */
    static void requirePrintable(String setting, String value) {
        for (int i = 0; i < value.length(); ) {
            int c = value.codePointAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || Character.getType(c) == Character.FORMAT) {
                throw new IllegalArgumentException(setting + " must not hold control or format characters (U+"
                        + String.format("%04X", c) + " at index " + i + "): \"" + escape(value) + "\"");
            }
            if (Character.isSurrogate(value.charAt(i)) && !Character.isSupplementaryCodePoint(c)) {
                throw new IllegalArgumentException(setting + " is not valid UTF-16 (a lone surrogate at index " + i + "): \""
                        + escape(value) + "\"");
            }
            i += Character.charCount(c);
        }
    }

    /** The value with controls shown as {@code \\uXXXX}, shortened to 200 characters, for messages. */
    static String escape(String value) {
        StringBuilder b = new StringBuilder();
        String v = value.length() > 200 ? value.substring(0, 200) : value;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || Character.getType(c) == Character.FORMAT) {
                b.append(String.format("\\u%04X", (int) c));
            } else {
                b.append(c);
            }
        }
        return value.length() > 200 ? b + "…" : b.toString();
    }
}
