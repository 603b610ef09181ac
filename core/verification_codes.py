"""Code lists of the verification form: DTSEN/Regsosek housing variables, assets, and the BPS 14 criteria.

The BPS criteria are a legacy screening aid (≥ 9 of 14 met = poor); Muskel shows them to the meeting and to
reviewers, never as the eligibility rule, and never changes a family's desil.
"""

HASIL = {"ditemukan": "Ditemukan", "tidak_ditemukan": "Tidak ditemukan", "pindah": "Pindah", "menolak": "Menolak"}
REKOMENDASI = {"layak": "Layak", "tidak_layak": "Tidak layak", "perlu_dibahas": "Perlu dibahas"}
PHOTO_KINDS = {"depan": "Tampak depan", "dalam": "Tampak dalam", "dapur_km": "Dapur/kamar mandi",
               "dokumen_kk": "Dokumen KK", "lainnya": "Lainnya"}
REQUIRED_KINDS = ("depan", "dalam")
NIK_STATUS = {"aktif": "Aktif (cocok dengan KTP)", "tidak_aktif": "Tidak aktif/ditolak Dukcapil",
              "tidak_diketahui": "Tidak diketahui"}

KONDISI = {
    "status_kepemilikan": ("Status kepemilikan bangunan", {
        "milik_sendiri": "Milik sendiri", "kontrak_sewa": "Kontrak/sewa", "bebas_sewa": "Bebas sewa",
        "dinas": "Dinas", "lainnya": "Lainnya"}),
    "lantai": ("Jenis lantai terluas", {
        "marmer_granit": "Marmer/granit", "keramik": "Keramik", "parket_vinil": "Parket/vinil/karpet",
        "ubin_tegel": "Ubin/tegel/teraso", "kayu_baik": "Kayu/papan kualitas tinggi", "semen": "Sementasi/bata merah",
        "bambu": "Bambu", "kayu_rendah": "Kayu/papan kualitas rendah", "tanah": "Tanah", "lainnya": "Lainnya"}),
    "dinding": ("Jenis dinding terluas", {
        "tembok": "Tembok", "plesteran_bambu": "Plesteran anyaman bambu/kawat", "kayu": "Kayu/papan",
        "anyaman_bambu": "Anyaman bambu", "batang_kayu": "Batang kayu", "bambu": "Bambu", "lainnya": "Lainnya"}),
    "atap": ("Jenis atap terluas", {
        "beton": "Beton", "genteng": "Genteng", "seng": "Seng", "asbes": "Asbes", "kayu_sirap": "Kayu/sirap",
        "bambu": "Bambu", "jerami": "Jerami/ijuk/rumbia", "lainnya": "Lainnya"}),
    "air_minum": ("Sumber air minum utama", {
        "kemasan": "Air kemasan bermerk", "isi_ulang": "Air isi ulang", "ledeng": "Leding/PAM",
        "sumur_bor": "Sumur bor/pompa", "sumur_terlindung": "Sumur terlindung",
        "sumur_tak_terlindung": "Sumur tak terlindung", "mata_air_terlindung": "Mata air terlindung",
        "mata_air_tak_terlindung": "Mata air tak terlindung", "sungai": "Air sungai/danau/waduk",
        "hujan": "Air hujan", "lainnya": "Lainnya"}),
    "listrik": ("Sumber penerangan utama", {
        "pln_meteran": "Listrik PLN dengan meteran", "pln_tanpa_meteran": "Listrik PLN tanpa meteran",
        "non_pln": "Listrik non-PLN", "tidak_ada": "Bukan listrik"}),
    "daya_va": ("Daya terpasang", {"450": "450 VA", "900": "900 VA", "1300": "1.300 VA", "2200": "2.200 VA",
                                   "lebih_2200": "> 2.200 VA", "tanpa_meteran": "Tanpa meteran"}),
    "bahan_bakar": ("Bahan bakar utama memasak", {
        "listrik": "Listrik", "elpiji_besar": "Elpiji 5,5 kg/blue gaz/12 kg", "elpiji_3kg": "Elpiji 3 kg",
        "gas_kota": "Gas kota", "minyak_tanah": "Minyak tanah", "kayu_bakar": "Kayu bakar", "arang": "Arang",
        "tidak_memasak": "Tidak memasak di rumah", "lainnya": "Lainnya"}),
    "fasilitas_bab": ("Fasilitas buang air besar", {
        "sendiri": "Ada, digunakan sendiri", "bersama": "Ada, bersama rumah tangga tertentu",
        "umum": "Di MCK komunal/umum", "tidak_ada": "Tidak ada"}),
    "pembuangan_akhir": ("Tempat pembuangan akhir tinja", {
        "tangki_septik": "Tangki septik", "ipal": "IPAL", "kolam_sawah": "Kolam/sawah/sungai/danau/laut",
        "lubang_tanah": "Lubang tanah", "pantai_kebun": "Pantai/tanah lapang/kebun", "lainnya": "Lainnya"}),
}
ASET = {"sepeda_motor": "Sepeda motor", "mobil": "Mobil", "kulkas": "Lemari es/kulkas", "ac": "AC",
        "emas": "Emas/perhiasan ≥ 10 gram", "laptop": "Komputer/laptop", "smartphone": "Telepon seluler/smartphone",
        "tv_datar": "Televisi layar datar ≥ 30 inci", "pemanas_air": "Pemanas air (water heater)"}

BPS_CRITERIA = [
    "Luas lantai bangunan kurang dari 8 m² per orang",
    "Lantai dari tanah/bambu/kayu murahan",
    "Dinding dari bambu/rumbia/kayu berkualitas rendah/tembok tanpa plester",
    "Tidak memiliki fasilitas buang air besar sendiri",
    "Sumber penerangan bukan listrik",
    "Air minum dari sumur/mata air tidak terlindung/sungai/air hujan",
    "Memasak dengan kayu bakar/arang/minyak tanah",
    "Mengonsumsi daging/susu/ayam paling banyak sekali seminggu",
    "Membeli satu stel pakaian baru paling banyak setahun sekali",
    "Makan hanya satu atau dua kali sehari",
    "Tidak sanggup membayar biaya pengobatan di puskesmas/poliklinik",
    "Penghasilan kepala rumah tangga dari pekerjaan berupah rendah (< Rp600.000/bulan)",
    "Pendidikan tertinggi kepala rumah tangga tidak sekolah/tidak tamat SD/hanya SD",
    "Tidak memiliki tabungan/barang mudah dijual minimal Rp500.000",
]
POOR_THRESHOLD = 9
