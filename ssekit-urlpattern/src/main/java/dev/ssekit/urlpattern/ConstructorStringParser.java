package dev.ssekit.urlpattern;

import dev.ssekit.urlpattern.Tokenizer.Token;
import dev.ssekit.urlpattern.Tokenizer.Type;
import java.util.List;

/**
 * "Parse a constructor string" of the standard: splits a pattern string such as
 * {@code https://example.com/books/:id} into the components of an init, on lenient tokens.
 * Each token is visited a bounded number of times (a rewind goes back to the component start
 * once per state change), so linear in the pattern's length. One instance per parse.
 */
final class ConstructorStringParser {
    private enum State { INIT, PROTOCOL, AUTHORITY, USERNAME, PASSWORD, HOSTNAME, PORT, PATHNAME, SEARCH, HASH, DONE }

    private final int[] input;
    private final List<Token> tokens;
    private final Canon.Init result = new Canon.Init();
    private int componentStart;
    private int tokenIndex;
    private int tokenIncrement = 1;
    private int groupDepth;
    private int ipv6BracketDepth;
    private boolean protocolMatchesSpecialScheme;
    private State state = State.INIT;

    private ConstructorStringParser(int[] input) {
        this.input = input;
        this.tokens = Tokenizer.tokenize(input, false);
    }

    static Canon.Init parse(String input) {
        ConstructorStringParser p = new ConstructorStringParser(input.codePoints().toArray());
        p.run();
        return p.result;
    }

    private void run() {
        while (tokenIndex < tokens.size()) {
            tokenIncrement = 1;
            if (tokens.get(tokenIndex).type() == Type.END) {
                if (state == State.INIT) {
                    rewind();
                    if (isHashPrefix()) {
                        changeState(State.HASH, 1);
                    } else if (isSearchPrefix()) {
                        changeState(State.SEARCH, 1);
                    } else {
                        changeState(State.PATHNAME, 0);
                    }
                    tokenIndex += tokenIncrement;
                    continue;
                }
                if (state == State.AUTHORITY) {
                    rewindAndSetState(State.HOSTNAME);
                    tokenIndex += tokenIncrement;
                    continue;
                }
                changeState(State.DONE, 0);
                break;
            }
            if (tokens.get(tokenIndex).type() == Type.OPEN) {
                groupDepth++;
                tokenIndex += tokenIncrement;
                continue;
            }
            if (groupDepth > 0) {
                if (tokens.get(tokenIndex).type() == Type.CLOSE) {
                    groupDepth--;
                } else {
                    tokenIndex += tokenIncrement;
                    continue;
                }
            }
            switch (state) {
                case INIT -> {
                    if (isNonSpecialPatternChar(tokenIndex, ":")) {
                        rewindAndSetState(State.PROTOCOL);
                    }
                }
                case PROTOCOL -> {
                    if (isNonSpecialPatternChar(tokenIndex, ":")) {
                        computeProtocolMatchesSpecialScheme();
                        State next = State.PATHNAME;
                        int skip = 1;
                        if (isNonSpecialPatternChar(tokenIndex + 1, "/") && isNonSpecialPatternChar(tokenIndex + 2, "/")) {
                            next = State.AUTHORITY;
                            skip = 3;
                        } else if (protocolMatchesSpecialScheme) {
                            next = State.AUTHORITY;
                        }
                        changeState(next, skip);
                    }
                }
                case AUTHORITY -> {
                    if (isNonSpecialPatternChar(tokenIndex, "@")) {
                        rewindAndSetState(State.USERNAME);
                    } else if (isNonSpecialPatternChar(tokenIndex, "/") || isSearchPrefix() || isHashPrefix()) {
                        rewindAndSetState(State.HOSTNAME);
                    }
                }
                case USERNAME -> {
                    if (isNonSpecialPatternChar(tokenIndex, ":")) {
                        changeState(State.PASSWORD, 1);
                    } else if (isNonSpecialPatternChar(tokenIndex, "@")) {
                        changeState(State.HOSTNAME, 1);
                    }
                }
                case PASSWORD -> {
                    if (isNonSpecialPatternChar(tokenIndex, "@")) {
                        changeState(State.HOSTNAME, 1);
                    }
                }
                case HOSTNAME -> {
                    if (isNonSpecialPatternChar(tokenIndex, "[")) {
                        ipv6BracketDepth++;
                    } else if (isNonSpecialPatternChar(tokenIndex, "]")) {
                        ipv6BracketDepth--;
                    } else if (isNonSpecialPatternChar(tokenIndex, ":") && ipv6BracketDepth == 0) {
                        changeState(State.PORT, 1);
                    } else if (isNonSpecialPatternChar(tokenIndex, "/")) {
                        changeState(State.PATHNAME, 0);
                    } else if (isSearchPrefix()) {
                        changeState(State.SEARCH, 1);
                    } else if (isHashPrefix()) {
                        changeState(State.HASH, 1);
                    }
                }
                case PORT -> {
                    if (isNonSpecialPatternChar(tokenIndex, "/")) {
                        changeState(State.PATHNAME, 0);
                    } else if (isSearchPrefix()) {
                        changeState(State.SEARCH, 1);
                    } else if (isHashPrefix()) {
                        changeState(State.HASH, 1);
                    }
                }
                case PATHNAME -> {
                    if (isSearchPrefix()) {
                        changeState(State.SEARCH, 1);
                    } else if (isHashPrefix()) {
                        changeState(State.HASH, 1);
                    }
                }
                case SEARCH -> {
                    if (isHashPrefix()) {
                        changeState(State.HASH, 1);
                    }
                }
                default -> { }
            }
            tokenIndex += tokenIncrement;
        }
        if (result.hostname != null && result.port == null) {
            result.port = "";
        }
    }

    private void changeState(State newState, int skip) {
        if (state != State.INIT && state != State.AUTHORITY && state != State.DONE) {
            String value = makeComponentString();
            switch (state) {
                case PROTOCOL -> result.protocol = value;
                case USERNAME -> result.username = value;
                case PASSWORD -> result.password = value;
                case HOSTNAME -> result.hostname = value;
                case PORT -> result.port = value;
                case PATHNAME -> result.pathname = value;
                case SEARCH -> result.search = value;
                case HASH -> result.hash = value;
                default -> { }
            }
        }
        if (state != State.INIT && newState != State.DONE) {
            boolean early = state == State.PROTOCOL || state == State.AUTHORITY || state == State.USERNAME
                    || state == State.PASSWORD;
            if (early && (newState == State.PORT || newState == State.PATHNAME || newState == State.SEARCH
                    || newState == State.HASH) && result.hostname == null) {
                result.hostname = "";
            }
            boolean beforePath = early || state == State.HOSTNAME || state == State.PORT;
            if (beforePath && (newState == State.SEARCH || newState == State.HASH) && result.pathname == null) {
                result.pathname = protocolMatchesSpecialScheme ? "/" : "";
            }
            if ((beforePath || state == State.PATHNAME) && newState == State.HASH && result.search == null) {
                result.search = "";
            }
        }
        state = newState;
        tokenIndex += skip;
        componentStart = tokenIndex;
        tokenIncrement = 0;
    }

    private void rewind() {
        tokenIndex = componentStart;
        tokenIncrement = 0;
    }

    private void rewindAndSetState(State s) {
        rewind();
        state = s;
    }

    private Token safeToken(int index) {
        if (index < tokens.size()) {
            return tokens.get(index);
        }
        return tokens.get(tokens.size() - 1);
    }

    private boolean isNonSpecialPatternChar(int index, String value) {
        Token t = safeToken(index);
        if (!t.value().equals(value)) {
            return false;
        }
        return t.type() == Type.CHAR || t.type() == Type.ESCAPED_CHAR || t.type() == Type.INVALID_CHAR;
    }

    private boolean isSearchPrefix() {
        if (isNonSpecialPatternChar(tokenIndex, "?")) {
            return true;
        }
        if (!tokens.get(tokenIndex).value().equals("?")) {
            return false;
        }
        int previousIndex = tokenIndex - 1;
        if (previousIndex < 0) {
            return true;
        }
        Type prev = safeToken(previousIndex).type();
        return prev != Type.NAME && prev != Type.REGEXP && prev != Type.CLOSE && prev != Type.ASTERISK;
    }

    private boolean isHashPrefix() {
        return isNonSpecialPatternChar(tokenIndex, "#");
    }

    private String makeComponentString() {
        Token token = tokens.get(tokenIndex);
        int start = safeToken(componentStart).index();
        return new String(input, start, token.index() - start);
    }

    private void computeProtocolMatchesSpecialScheme() {
        Component protocol = Component.compile(makeComponentString(), Canon::protocol, PatternParser.Options.DEFAULT);
        protocolMatchesSpecialScheme = UrlPattern.matchesSpecialScheme(protocol);
    }
}
