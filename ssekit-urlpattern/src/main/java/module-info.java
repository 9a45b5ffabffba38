/**
 * ssekit-urlpattern: the WHATWG URL Pattern Living Standard on the JVM, matching in linear time on
 * RE2/J. Package {@code dev.ssekit.urlpattern}: {@link dev.ssekit.urlpattern.UrlPattern} and the
 * records of the standard's dictionaries. Needs only {@code java.base} and RE2/J; usable alone.
 */
@SuppressWarnings({"module", "requires-automatic"}) // RE2/J has only an automatic module name, "re2j"
module dev.ssekit.urlpattern {
    requires re2j; // RE2/J declares no module name: this is the automatic one, from its jar's name
    exports dev.ssekit.urlpattern;
}
