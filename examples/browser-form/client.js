// The browser side: seal the form's PII with the server's RSA public key before it leaves the page.
// Copy this file into your app; your bundler (esbuild, Vite, webpack, Rollup) picks the WebCrypto
// build of @fieldseal/core by itself. Nothing on the page can open what it seals.
import { RsaKeyring, encrypt } from '@fieldseal/core';

/** Which fields are PII; the server refuses a signup in which any of them arrives unsealed. */
const PII_PATHS = ['$.email', '$.ssn', '$.card.number'];

let keyringPromise;
/** Fetch the public key once per page load. */
function keyring() {
  keyringPromise ??= fetch('/public-key.pem')
    .then((res) => {
      if (!res.ok) throw new Error(`public key: HTTP ${res.status}`);
      return res.text();
    })
    .then((pem) => RsaKeyring.fromPublicKey(pem));
  keyringPromise.catch(() => (keyringPromise = undefined)); // retry on the next submit
  return keyringPromise;
}

const form = document.getElementById('signup');
const status = document.getElementById('status');

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const signup = {
    name: data.get('name'),
    email: data.get('email'),
    ssn: data.get('ssn'),
    card: { number: data.get('card'), expiry: data.get('expiry') },
  };
  status.textContent = 'Sealing…';
  try {
    // The context is bound to every sealed field; the server must present the same one to open them.
    const sealed = await encrypt(signup, { keyring: await keyring(), paths: PII_PATHS, context: { form: 'signup-v1' } });
    const res = await fetch('/api/signups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sealed) });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
    form.reset();
    status.textContent = `Received as signup ${body.id}: ${body.received.name}, email at ${body.received.emailDomain}, SSN ending ${body.received.ssnLast4}.`;
    status.dataset.id = body.id;
  } catch (err) {
    status.textContent = `Could not send: ${err.code ?? err.message}`;
  }
});

status.textContent = 'Ready.';
