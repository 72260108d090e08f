// The pages of mailed links: post the link's token (and a new password) to the JSON API, show the answer.
"use strict";
(function () {
  var form = document.querySelector("form[data-endpoint]");
  var message = document.getElementById("message");
  var texts = JSON.parse(document.getElementById("mail-data").textContent);
  var token = new URLSearchParams(window.location.search).get("token") || "";
  if (window.history.replaceState) window.history.replaceState(null, "", window.location.pathname);
  function say(text, isError) {
    message.textContent = text;
    message.className = isError ? "message error" : "message";
  }
  if (!token) { say(texts.no_token, true); form.hidden = true; return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = { token: token };
    if (form.password) {
      if (form.password.value !== form.again.value) { say(texts.passwords_differ, true); return; }
      body.password = form.password.value;
    }
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.dataset.endpoint, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), credentials: "omit" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (response.ok) { form.hidden = true; say(texts.done, false); return; }
          button.disabled = false;
          say(data.detail || texts.failed, true);
        });
      })
      .catch(function () { button.disabled = false; say(texts.unreachable, true); });
  });
})();
