/// The page frame and style shared by every page; `{{title}}` and `{{user}}` come from the page's data.
enum LayoutTemplates {
    static let header = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · Tether labels</title>
    <style>
    body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1b1b1f; background: #f6f6f8; }
    header { display: flex; gap: 1em; align-items: center; padding: .6em 1.2em; background: #24243a; color: #fff; }
    header a { color: #fff; } header form { margin-left: auto; }
    main { padding: 1em 1.2em; max-width: 1300px; margin: auto; }
    .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
    .card { background: #fff; border: 1px solid #d8d8e0; border-radius: 6px; padding: .8em 1em; }
    .card h3 { margin: 0 0 .4em; } .selected { outline: 3px solid #3b6fd8; }
    pre.text { white-space: pre-wrap; word-break: break-word; font: 14px/1.45 ui-monospace, monospace; margin: 0; }
    .role { font-size: 12px; text-transform: uppercase; color: #666; margin-top: .4em; }
    .choices button { font-size: 15px; padding: .45em .9em; margin: .2em; }
    .error { background: #fde8e8; border: 1px solid #e0a0a0; padding: .5em 1em; border-radius: 6px; }
    table { border-collapse: collapse; background: #fff; } td, th { border: 1px solid #d8d8e0; padding: .3em .7em; text-align: right; }
    th:first-child, td:first-child { text-align: left; }
    kbd { border: 1px solid #aaa; border-radius: 3px; padding: 0 .3em; font-size: 12px; background: #fff; }
    </style></head><body>
    <header><strong>Tether labels</strong>{{#user}}<a href="/">Projects</a><span>{{name}} ({{role}})</span>
    <form method="post" action="/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button id="logout">Log out</button></form>{{/user}}</header>
    <main>
    {{#error}}<p class="error">{{error}}</p>{{/error}}
    """

    static let footer = """
    </main></body></html>
    """

    /// A message list or a string, escaped: `{{#parts}}` of `role` (optional) and `content`.
    static let text = """
    {{#parts}}{{#role}}<div class="role">{{role}}</div>{{/role}}<pre class="text">{{content}}</pre>{{/parts}}
    """
}
