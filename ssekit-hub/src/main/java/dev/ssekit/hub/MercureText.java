package dev.ssekit.hub;

/**
 * The character rule Mercure 1.0 sets for topics, matchers, ids and types
 * (draft-dunglas-mercure-08 L65-74, L172-176): valid Unicode (no unpaired surrogate, which is what
 * ill-formed UTF-16 would be; {@link Forms} already refuses bytes that are not UTF-8), no C0 control, no DEL, no C1 control, no format character
 * (Unicode {@code Cf}: bidirectional overrides, zero-width joiners...). Linear in the length.
 */
final class MercureText {

    private MercureText() {
    }

    /**
     * The first offending character's description, or null when the text is allowed.
     *
     * @param text any string
     * @return null, or e.g. "U+0000"
     */
    static String firstForbidden(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    int cp = text.codePointAt(i);
                    if (Character.getType(cp) == Character.FORMAT) {
                        return String.format("U+%04X", cp);
                    }
                    i++;
                    continue;
                }
                return "an unpaired surrogate";
            }
            if (Character.isLowSurrogate(c) || c < 0x20 || (c >= 0x7F && c <= 0x9F) || Character.getType(c) == Character.FORMAT) {
                return String.format("U+%04X", (int) c);
            }
        }
        return null;
    }

    /**
     * Refuses text that breaks the rule.
     *
     * @param what the field's name, for the message
     * @throws IllegalArgumentException naming the field and the character
     */
    static void check(String what, String text) {
        String bad = firstForbidden(text);
        if (bad != null) {
            throw new IllegalArgumentException(what + " must not contain control or format characters, got " + bad);
        }
    }
}
