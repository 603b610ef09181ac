"""Indonesian wording for audit actions, for the screens that show the trail to people."""

ACTION_TEXT = {
    "auth.login": "Masuk",
    "auth.login_failed": "Gagal masuk",
    "auth.logout": "Keluar",
    "auth.locked": "Akun terkunci",
    "auth.password_changed": "Mengganti kata sandi",
    "account.created": "Membuat akun",
    "account.password_reset": "Mengatur ulang kata sandi",
    "account.unlocked": "Membuka kunci akun",
    "account.disabled": "Menonaktifkan akun",
    "account.enabled": "Mengaktifkan akun",
    "account.role_changed": "Mengubah peran/wilayah akun",
    "account.profile_updated": "Mengubah profil",
    "office.updated": "Mengubah profil kantor",
    "audit.read": "Membaca log audit",
    "audit.verified": "Memeriksa rantai log audit",
}


def action_text(code: str) -> str:
    return ACTION_TEXT.get(code, code)
