/// The pages, as Mustache templates. `{{x}}` escapes HTML; no template uses `{{{x}}}` on anything from the data.
enum PageTemplates {
    static let login = """
    {{> header}}
    <h1>Log in</h1>
    <form method="post" action="/login" class="card" style="max-width: 22em">
    <input type="hidden" name="csrf" value="{{loginCSRF}}">
    <p><label>Name<br><input name="name" id="name" autocomplete="username" required></label></p>
    <p><label>Password<br><input name="password" id="password" type="password" autocomplete="current-password" required></label></p>
    <p><button id="login">Log in</button></p>
    </form>
    {{> footer}}
    """

    static let home = """
    {{> header}}
    <h1>Projects</h1>
    {{^projects}}<p>No projects yet.{{#admin}} Create one below, then import rows with <code>tether label import</code>.{{/admin}}</p>{{/projects}}
    <ul>{{#projects}}<li><a href="/projects/{{id}}/label">{{name}}</a>{{#admin}} · <a href="/projects/{{id}}/admin">quality</a>
    · <a href="/projects/{{id}}/ranking">ranking</a> · <a href="/projects/{{id}}/export/preference.jsonl">preference.jsonl</a>
    · <a href="/projects/{{id}}/export/kto.jsonl">kto.jsonl</a>{{/admin}}</li>{{/projects}}</ul>
    {{#admin}}
    <h2>New project</h2>
    <form method="post" action="/projects" class="card" style="max-width: 30em"><input type="hidden" name="csrf" value="{{csrf}}">
    <p><label>Name <input name="name" required></label></p>
    <p><label>Annotators per pair <input name="annotators_per_pair" type="number" min="1" value="3"></label></p>
    <p><label>Repeat share <input name="repeat_share" type="number" min="0" max="0.9" step="0.05" value="0.1"></label></p>
    <p><button>Create</button></p></form>
    <h2>Invite someone</h2>
    <form method="post" action="/users" class="card" style="max-width: 30em"><input type="hidden" name="csrf" value="{{csrf}}">
    <p><label>Name <input name="name" required></label></p>
    <p><label>Password <input name="password" type="password" minlength="8" required></label></p>
    <p><label>Role <select name="role"><option>annotator</option><option>admin</option></select></label></p>
    <p><button>Add account</button></p></form>
    {{/admin}}
    {{> footer}}
    """

    static let label = """
    {{> header}}
    <h1>{{project}}</h1>
    {{#task}}
    <p id="progress">{{done}} labelled · {{remaining}} to go</p>
    <div class="card"><h3>Prompt</h3>{{#prompt}}{{> text}}{{/prompt}}</div>
    <form method="post" action="/projects/{{projectID}}/label" id="labelform">
    <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="assignment" value="{{assignment}}">
    <div class="pair" style="margin-top: 1em">
    <div class="card" id="cand-a"><h3>A</h3>{{#a}}{{> text}}{{/a}}</div>
    <div class="card" id="cand-b"><h3>B</h3>{{#b}}{{> text}}{{/b}}</div>
    </div>
    <p class="choices">
    <button name="choice" value="a" id="btn-a"><kbd>1</kbd> <kbd>←</kbd> A is better</button>
    <button name="choice" value="b" id="btn-b"><kbd>2</kbd> <kbd>→</kbd> B is better</button>
    <button name="choice" value="tie" id="btn-tie"><kbd>3</kbd> <kbd>↓</kbd> Tie</button>
    <button name="choice" value="both_bad" id="btn-both_bad"><kbd>4</kbd> Both bad</button>
    <button name="choice" value="skip" id="btn-skip"><kbd>0</kbd> Skip</button>
    <kbd>Enter</kbd> confirms the highlighted choice.
    </p>
    <p>How much better (optional):
    <label><input type="radio" name="strength" value="" checked> not said</label>
    <label><input type="radio" name="strength" value="1"> slightly</label>
    <label><input type="radio" name="strength" value="2"> clearly</label>
    <label><input type="radio" name="strength" value="3"> much</label></p>
    <p><label>Why (optional)<br><textarea name="reason" rows="2" cols="80" maxlength="2000"></textarea></label></p>
    </form>
    {{/task}}
    {{^task}}<p id="progress">All done: {{done}} labelled. Thank you!</p>{{/task}}
    <form method="post" action="/projects/{{projectID}}/undo"><input type="hidden" name="csrf" value="{{csrf}}">
    <button id="undo"><kbd>U</kbd> Undo last label</button></form>
    <script nonce="{{nonce}}">
    // Keys pick a choice (1/2/3/4/0, arrows); Enter sends it; U undoes. Typing in the reason box is left alone.
    (function () {
      var keys = {"1": "a", "ArrowLeft": "a", "2": "b", "ArrowRight": "b", "3": "tie", "ArrowDown": "tie", "4": "both_bad", "0": "skip"};
      var form = document.getElementById("labelform"), picked = null;
      document.addEventListener("keydown", function (e) {
        if (e.target.tagName === "TEXTAREA" || e.target.tagName === "INPUT" && e.target.type !== "radio") return;
        if (e.key === "u" || e.key === "U") { e.preventDefault(); document.getElementById("undo").click(); return; }
        if (!form) return;
        if (keys[e.key]) {
          e.preventDefault(); picked = keys[e.key];
          document.querySelectorAll(".choices button, .card").forEach(function (b) { b.classList.remove("selected"); });
          document.getElementById("btn-" + picked).classList.add("selected");
          if (picked === "a" || picked === "b") document.getElementById("cand-" + picked).classList.add("selected");
        } else if (e.key === "Enter") {
          e.preventDefault(); if (picked) document.getElementById("btn-" + picked).click();
        }
      });
    })();
    </script>
    {{> footer}}
    """

    static let quality = """
    {{> header}}
    <h1>{{project}}: annotators</h1>
    <p>{{items}} items, {{pairs}} pairs, {{labels}} labels. Krippendorff's α (all annotators): <strong id="alpha">{{alpha}}</strong>.
    A chosen in {{shareA}} of A/B answers (0.5 is no position bias).</p>
    <table id="quality"><tr><th>Annotator</th><th>Labels</th><th>Skips</th><th>Median s/label</th><th>Cohen's κ vs others</th>
    <th>Self-consistency (repeats)</th><th>Gold accuracy (answered)</th><th>Share A</th></tr>
    {{#annotators}}<tr><td>{{user}}</td><td>{{labels}}</td><td>{{skips}}</td><td>{{seconds}}</td><td>{{kappa}}</td>
    <td>{{consistency}} ({{repeats}})</td><td>{{gold}} ({{goldAnswered}})</td><td>{{shareA}}</td></tr>{{/annotators}}
    </table>
    <p>κ is averaged over the other annotators who share at least 3 pairs; a dash means not enough data.</p>
    {{> footer}}
    """

    static let ranking = """
    {{> header}}
    <h1>{{project}}: ranking of candidate sources</h1>
    <p>Bradley–Terry scores from every A/B/tie label between different sources, on the arena's Elo-like scale, with 95% intervals.</p>
    <table id="ranking"><tr><th>Source</th><th>Score</th><th>95% interval</th><th>Comparisons</th></tr>
    {{#ranks}}<tr><td>{{source}}</td><td>{{elo}}</td><td>{{low}} – {{high}}</td><td>{{games}}</td></tr>{{/ranks}}
    </table>
    {{^ranks}}<p>No labels between different sources yet.</p>{{/ranks}}
    {{> footer}}
    """

    /// A failed page request: the status, a plain message (escaped like everything else) and the way home.
    static let error = """
    {{> header}}
    <h1 id="status">{{code}} {{reason}}</h1>
    <p id="message">{{message}}</p>
    <p><a href="/" id="home">Back to the projects</a></p>
    {{> footer}}
    """
}
