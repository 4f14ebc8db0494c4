// Event type patterns, exactly as `rtrec replay --type` reads them (rtrec/replay/selection.py):
// comma-separated globs (* ? [...] [!...]) matched against the whole type; a pattern without
// a wildcard also matches the types it is a dotted prefix of ("response" matches
// "response.done"); "!" in front excludes.  Frames with no type match only "*".
(function (R) {
  "use strict";

  const WILDCARDS = /[*?[]/;

  function escapeRegExp(c) {
    return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }

  // Python's fnmatch.translate, for case-sensitive whole-string matching.
  function globToRegExp(pattern) {
    let out = "";
    let i = 0;
    const n = pattern.length;
    while (i < n) {
      const c = pattern[i++];
      if (c === "*") {
        if (!out.endsWith(".*")) out += ".*";
      } else if (c === "?") {
        out += ".";
      } else if (c === "[") {
        let j = i;
        if (j < n && pattern[j] === "!") j++;
        if (j < n && pattern[j] === "]") j++;
        while (j < n && pattern[j] !== "]") j++;
        if (j >= n) {
          out += "\\[";
        } else {
          let stuff = pattern.slice(i, j).replace(/\\/g, "\\\\");
          i = j + 1;
          if (stuff[0] === "!") stuff = "^" + stuff.slice(1);
          else if (stuff[0] === "^" || stuff[0] === "[") stuff = "\\" + stuff;
          out += "[" + stuff + "]";
        }
      } else {
        out += escapeRegExp(c);
      }
    }
    return new RegExp("^(?:" + out + ")$", "s");
  }

  function matcher(pattern) {
    if (!WILDCARDS.test(pattern)) {
      return (name) => Boolean(name) && (name === pattern || name.startsWith(pattern + "."));
    }
    const re = globToRegExp(pattern);
    return (name) => re.test(name);
  }

  // A filter from the text typed; throws Error with a message for an empty pattern.
  function parseTypeFilter(text) {
    const include = [];
    const exclude = [];
    const trimmed = text.trim();
    if (trimmed) {
      for (const piece of trimmed.split(",")) {
        let pattern = piece.trim();
        const negated = pattern.startsWith("!");
        pattern = pattern.replace(/^!/, "").trim();
        if (!pattern) throw new Error("empty event type pattern in " + JSON.stringify(text));
        (negated ? exclude : include).push(matcher(pattern));
      }
    }
    return {
      everything: include.length === 0 && exclude.length === 0,
      accepts(type) {
        const name = type || "";
        if (include.length && !include.some((m) => m(name))) return false;
        return !exclude.some((m) => m(name));
      },
    };
  }

  R.glob = { parseTypeFilter, globToRegExp };
})(window.Rtrec = window.Rtrec || {});
